from django.apps import AppConfig


class VolumesConfig(AppConfig):
    name = "volumes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Tell the pages which tasks the API flow runs; add the move actions, and the live
        attachments panel with its action."""
        from core.kernel import flows, panels
        from volumes import move_views, presenters
        from volumes.attach_views import panel
        from volumes.flows import get_flow

        flows.plan("api", get_flow)
        presenters.ACTION_TEMPLATES.extend(move_views.ACTION_TEMPLATES)
        panels.add("volumes/_attachments.html", panel)
        if "volumes/_action_attachments.html" not in presenters.ACTION_TEMPLATES:
            presenters.ACTION_TEMPLATES.append("volumes/_action_attachments.html")
