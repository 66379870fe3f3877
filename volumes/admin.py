"""The admin of cinder-api's objects. What changes a volume or a snapshot goes through
Cinder's service layer (:mod:`volumes.console`); generated records are read only."""

from django.contrib import admin
from django.utils import timezone

from core.cinder import cleanable
from core.cinder.models import (
    Image,
    Notification,
    Snapshot,
    UserMessage,
    Volume,
    VolumeType,
    VolumeTypeExtraSpec,
    Worker,
)
from core.kernel import queues
from core.kernel.read_only_admin import ReadOnlyAdmin
from volumes import api, console


class CinderDeleteAdmin(admin.ModelAdmin):
    """Rows are made by Cinder's create and removed by Cinder's delete (the actions), never
    added or dropped here: quota, storage and work in flight would no longer match."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # no delete page, no bulk delete_selected: the actions delete


class ExtraSpecInline(admin.TabularInline):
    model = VolumeTypeExtraSpec
    extra = 1


@admin.register(VolumeType)
class VolumeTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "description", "is_public", "id"]
    inlines = [ExtraSpecInline]


@admin.register(Volume)
class VolumeAdmin(CinderDeleteAdmin):
    form = console.VolumeAdminForm
    list_display = [
        "id",
        "display_name",
        "project",
        "size",
        "status",
        "volume_type",
        "availability_zone",
        "host",
        "created_at",
    ]
    list_filter = ["status", "volume_type", "availability_zone", "project"]
    search_fields = ["id", "display_name", "host"]
    fields = [
        "display_name",
        "display_description",
        "status",
        "attach_status",
        "migration_status",
        "project",
        "user",
        "size",
        "volume_type",
        "availability_zone",
        "host",
        "snapshot_id",
        "source_volid",
        "image_id",
        "bootable",
        "multiattach",
        "metadata",
        "name_id",
        "provider_location",
        "created_at",
        "scheduled_at",
        "launched_at",
        "updated_at",
    ]
    readonly_fields = fields[5:]
    actions = ["delete_volumes", "reset_state", "force_delete"]

    @admin.action(description="Delete selected volumes (as Cinder's API does)")
    def delete_volumes(self, request, queryset):
        console.for_each(
            self,
            request,
            queryset,
            lambda v: api.delete(console.context_of(request, v), v.id),
            "volume(s) being deleted",
        )

    @admin.action(description="Reset the state of selected volumes (os-reset_status)…")
    def reset_state(self, request, queryset):
        return console.reset_volumes(self, request, queryset)

    @admin.action(description="Force-delete selected volumes (os-force_delete)…")
    def force_delete(self, request, queryset):
        return console.force_delete_volumes(self, request, queryset)

    def save_model(self, request, obj, form, change):
        console.save_volume(request, obj, form)


@admin.register(Snapshot)
class SnapshotAdmin(CinderDeleteAdmin):
    list_display = ["id", "display_name", "volume", "project", "volume_size", "status"]
    list_filter = ["status", "project"]
    search_fields = ["id", "display_name"]
    fields = [
        "display_name",
        "display_description",
        "status",
        "volume",
        "project",
        "user",
        "volume_size",
        "volume_type",
        "progress",
        "metadata",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields[3:]
    actions = ["delete_snapshots", "reset_state", "force_delete"]

    @admin.action(description="Delete selected snapshots (as Cinder's API does)")
    def delete_snapshots(self, request, queryset):
        console.for_each(
            self,
            request,
            queryset,
            lambda s: api.delete_snapshot(console.context_of(request, s), s.id),
            "snapshot(s) being deleted",
        )

    @admin.action(description="Reset the state of selected snapshots (os-reset_status)…")
    def reset_state(self, request, queryset):
        return console.reset_snapshots(self, request, queryset)

    @admin.action(description="Force-delete selected snapshots (os-force_delete)…")
    def force_delete(self, request, queryset):
        return console.force_delete_snapshots(self, request, queryset)

    def save_model(self, request, obj, form, change):
        console.save_snapshot(request, obj, form)


@admin.register(Worker)
class WorkerAdmin(ReadOnlyAdmin):
    """Work in flight (Cinder's ``workers`` table): read here, cleaned up by the action."""

    list_display = ["resource_type", "resource_id", "status", "service", "owner", "age", "job"]
    list_filter = ["resource_type", "status", "service"]
    search_fields = ["resource_id", "service", "owner"]
    actions = ["clean_up"]

    @admin.display(description="age")
    def age(self, row: Worker) -> str:
        return f"{(timezone.now() - row.updated_at).total_seconds():.0f} s"

    @admin.display(description="job (RQ)")
    def job(self, row: Worker) -> str:
        return queues.job_status(row.job_id) or "unknown to Redis"

    @admin.action(description="Clean up selected stuck work (as the cleanup sweep does, now)")
    def clean_up(self, request, queryset):
        outcomes: dict[str, int] = {}
        for row in queryset:
            outcome = cleanable.unstick(row)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        said = ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items()))
        self.message_user(request, f"Cleaned up: {said}.")


@admin.register(UserMessage)
class UserMessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "project", "resource_uuid", "event_id", "user_message"]
    list_filter = ["event_id"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "event_type", "publisher_id", "volume_id", "priority"]
    list_filter = ["event_type", "priority"]


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    """Catalog rows are editable here; files are uploaded through the Images page."""

    list_display = ["name", "disk_format", "size", "min_disk", "status", "visibility", "owner"]
    list_filter = ["status", "disk_format", "visibility"]
    search_fields = ["id", "name"]
    readonly_fields = ["checksum", "created_at", "updated_at"]


# Quota (limits, defaults class, usages, reservations) lives in its own module.
from volumes import quota_admin  # noqa: E402,F401
