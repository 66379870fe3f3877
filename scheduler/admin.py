from django.contrib import admin

from core.kernel.read_only_admin import ReadOnlyAdmin
from scheduler.models import DecisionTrace, Pool


@admin.register(Pool)
class PoolAdmin(ReadOnlyAdmin):
    """Written by capability reports: change a backend on /backends/ or its BackendConfig."""

    list_display = ["name", "host", "availability_zone", "reported_at", "updated_at"]
    list_filter = ["availability_zone"]
    search_fields = ["name"]


@admin.register(DecisionTrace)
class DecisionTraceAdmin(ReadOnlyAdmin):
    list_display = ["volume_id", "operation", "attempt", "chosen", "created_at"]
    list_filter = ["operation"]
    search_fields = ["volume_id", "chosen"]
