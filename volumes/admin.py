from django.contrib import admin, messages

from core.cinder import exceptions
from core.cinder.models import (
    Image,
    Notification,
    Snapshot,
    UserMessage,
    Volume,
    VolumeType,
    VolumeTypeExtraSpec,
)


def _delete_through_cinder(modeladmin, request, queryset, delete, noun: str) -> None:
    """Run Cinder's delete for each row (quota given back, storage removed by its agent), or
    say why not; a row is never simply dropped from the table."""
    started = 0
    for row in queryset:
        context = api.request_context(request.user, row.project)
        try:
            delete(context, row.id)
            started += 1
        except exceptions.CinderError as error:
            modeladmin.message_user(request, f"{noun} {row}: {error}", messages.ERROR)
    if started:
        modeladmin.message_user(request, f"{started} {noun.lower()}(s) being deleted.")


class CinderDeleteAdmin(admin.ModelAdmin):
    """Deleting goes through Cinder's API, never a bare row delete."""

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the delete button and page; the action below deletes


class ExtraSpecInline(admin.TabularInline):
    model = VolumeTypeExtraSpec
    extra = 1


@admin.register(VolumeType)
class VolumeTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "description", "is_public", "id"]
    inlines = [ExtraSpecInline]


@admin.register(Volume)
class VolumeAdmin(CinderDeleteAdmin):
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
    actions = ["delete_volumes"]

    @admin.action(description="Delete selected volumes (as Cinder's API does)")
    def delete_volumes(self, request, queryset):
        _delete_through_cinder(self, request, queryset, api.delete, "Volume")


@admin.register(UserMessage)
class UserMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "project", "resource_uuid", "event_id", "user_message"]
    list_filter = ["event_id"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "event_type", "publisher_id", "volume_id", "priority"]
    list_filter = ["event_type", "priority"]


# Quota (limits, defaults class, usages, reservations) lives in its own module.
from volumes import api, quota_admin  # noqa: E402,F401


@admin.register(Snapshot)
class SnapshotAdmin(CinderDeleteAdmin):
    list_display = ["id", "display_name", "volume", "project", "volume_size", "status"]
    list_filter = ["status", "project"]
    search_fields = ["id", "display_name"]
    actions = ["delete_snapshots"]

    @admin.action(description="Delete selected snapshots (as Cinder's API does)")
    def delete_snapshots(self, request, queryset):
        _delete_through_cinder(self, request, queryset, api.delete_snapshot, "Snapshot")


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    """Catalog rows are editable here; files are uploaded through the Images page."""

    list_display = ["name", "disk_format", "size", "min_disk", "status", "visibility", "owner"]
    list_filter = ["status", "disk_format", "visibility"]
    search_fields = ["id", "name"]
    readonly_fields = ["checksum", "created_at", "updated_at"]
