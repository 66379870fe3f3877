from django.contrib import admin

from core.cinder.models import Membership, Project
from core.kernel.models import FlowRun, Service, TaskRun

# One meaning of admin: the Django admin is the cloud admin's (a superuser's), as the
# API's admin actions, the Backends page and the all-projects dashboard are.
admin.site.has_permission = lambda request: request.user.is_active and request.user.is_superuser


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "description"]
    search_fields = ["name", "id"]
    inlines = [MembershipInline]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = [
        "binary",
        "host",
        "availability_zone",
        "heartbeat_at",
        "disabled",
        "disabled_reason",
    ]
    list_filter = ["binary", "disabled", "availability_zone"]
    list_editable = ["disabled", "disabled_reason"]


class TaskRunInline(admin.TabularInline):
    model = TaskRun
    extra = 0
    fields = ["position", "name", "state", "started_at", "ended_at", "failure"]
    readonly_fields = fields
    can_delete = False


@admin.register(FlowRun)
class FlowRunAdmin(admin.ModelAdmin):
    list_display = ["flow_name", "volume_id", "attempt", "host", "state", "started_at", "ended_at"]
    list_filter = ["flow", "state"]
    search_fields = ["volume_id", "host"]
    inlines = [TaskRunInline]
