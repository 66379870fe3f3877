from django.contrib import admin

from agent.models import BackendConfig, Fault


@admin.register(BackendConfig)
class BackendConfigAdmin(admin.ModelAdmin):
    list_display = [
        "host",
        "backend_name",
        "volume_backend_name",
        "availability_zone",
        "lvm_type",
        "vg_size_gb",
        "runner",
        "enabled",
    ]
    list_filter = ["host", "lvm_type", "availability_zone", "enabled"]


@admin.register(Fault)
class FaultAdmin(admin.ModelAdmin):
    list_display = [
        "backend",
        "operation",
        "fail_next",
        "probability",
        "latency_ms",
        "crash",
        "active",
        "hits",
    ]
    list_filter = ["operation", "active", "backend"]
    list_editable = ["active"]
