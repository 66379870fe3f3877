from django.contrib import admin, messages

from core.cinder import quota
from core.cinder.models import Membership, Project
from core.kernel.models import FlowRun, Service, TaskRun
from core.kernel.read_only_admin import ReadOnlyAdmin

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
    actions = ["check_quota", "sync_quota"]

    @admin.action(description="Check quota usage of selected projects (show drift)")
    def check_quota(self, request, queryset):
        self._quota(request, queryset, sync=False)

    @admin.action(description="Sync quota usage of selected projects (repair drift)")
    def sync_quota(self, request, queryset):
        self._quota(request, queryset, sync=True)

    def _quota(self, request, queryset, sync: bool) -> None:
        """``cinder-manage quota check`` / ``sync`` for each project, its drift in Cinder's
        words: usage saved against what the volumes and live reservations add up to."""
        for project in queryset:
            found = quota.check(project.pk, sync=sync)
            if not found:
                self.message_user(request, f"{project}: quota usage is in sync.")
                continue
            lines = "; ".join(d.describe(fixed=sync) for d in found)
            level = messages.SUCCESS if sync else messages.WARNING
            self.message_user(request, f"{project}: {lines}", level)


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

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(FlowRun)
class FlowRunAdmin(ReadOnlyAdmin):
    """Written only by the FlowRecorder, as the flows run."""

    list_display = [
        "flow_name",
        "operation",
        "volume_id",
        "attempt",
        "host",
        "state",
        "started_at",
        "ended_at",
    ]
    list_filter = ["operation", "flow", "state"]
    search_fields = ["volume_id", "host"]
    inlines = [TaskRunInline]
