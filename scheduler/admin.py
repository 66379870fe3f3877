from django.contrib import admin

from scheduler.models import DecisionTrace, Pool


@admin.register(Pool)
class PoolAdmin(admin.ModelAdmin):
    list_display = ["name", "host", "availability_zone", "reported_at", "updated_at"]
    list_filter = ["availability_zone"]
    search_fields = ["name"]


@admin.register(DecisionTrace)
class DecisionTraceAdmin(admin.ModelAdmin):
    list_display = ["volume_id", "attempt", "chosen", "created_at"]
    search_fields = ["volume_id", "chosen"]
