from django.apps import AppConfig


class SchedulerConfig(AppConfig):
    name = "scheduler"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Tell the pages which tasks the scheduler flow runs, and add its decisions panel."""
        from core.kernel import flows, panels
        from scheduler import operation_flows
        from scheduler.flows import get_flow
        from scheduler.trace_view import volume_traces

        flows.plan("scheduler", get_flow)
        flows.plan("scheduler", operation_flows.extend_flow, operation="extend")
        flows.plan("scheduler", operation_flows.retype_flow, operation="retype")
        flows.plan("scheduler", operation_flows.migrate_flow, operation="migrate")
        panels.add("scheduler/_volume_traces.html", volume_traces)
