from django.apps import AppConfig


class VolumesConfig(AppConfig):
    name = "volumes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Tell the pages which tasks the API flow runs; add the move actions."""
        from core.kernel import flows
        from volumes import move_views, presenters
        from volumes.flows import get_flow

        flows.plan("api", get_flow)
        presenters.ACTION_TEMPLATES.extend(move_views.ACTION_TEMPLATES)
