from django.apps import AppConfig


class KernelConfig(AppConfig):
    name = "core.kernel"
    label = "kernel"
    verbose_name = "Kernel: flow runs and services"
    default_auto_field = "django.db.models.BigAutoField"
