from django.apps import AppConfig


class CinderConfig(AppConfig):
    name = "core.cinder"
    label = "cinder"
    verbose_name = "Cinder objects"
    default_auto_field = "django.db.models.BigAutoField"
