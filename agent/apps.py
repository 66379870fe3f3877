from django.apps import AppConfig


class AgentConfig(AppConfig):
    name = "agent"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Tell the pages which tasks the volume manager's flows run, and the cleanup how a
        migration's destination is removed."""
        from agent import (
            attach_flow,
            delete_flow,
            extend_flow,
            migrate_flow,
            retype_flow,
            revert_flow,
            snapshot_flow,
        )
        from agent import flows as manager_flows
        from core.cinder import cleanable
        from core.kernel import flows

        # Built with no driver: only the task names are read.
        flows.plan("manager", lambda: manager_flows.get_flow(None, ""))
        flows.plan("manager", lambda: delete_flow.get_flow(None, ""), operation="delete")
        flows.plan("manager", lambda: extend_flow.get_flow(None, ""), operation="extend")
        flows.plan("manager", lambda: revert_flow.get_flow(None, ""), operation="revert")
        flows.plan("manager", lambda: retype_flow.get_flow(None, ""), operation="retype")
        flows.plan("manager", lambda: migrate_flow.get_flow(None, ""), operation="migrate")
        # A migration that ends early leaves its destination volume to be removed.
        cleanable.on_abandoned_targets(migrate_flow.abandon_targets)
        attach = attach_flow.attachment_update_flow
        flows.plan("manager", lambda: attach(None, ""), operation="attach")
        detach = attach_flow.attachment_delete_flow
        flows.plan("manager", lambda: detach(None, ""), operation="detach")
        flows.plan("manager", lambda: snapshot_flow.get_flow(None, ""), operation="snapshot")
