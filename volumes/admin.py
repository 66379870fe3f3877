from django.contrib import admin

from core.cinder.models import (
    Image,
    Notification,
    Snapshot,
    UserMessage,
    Volume,
    VolumeType,
    VolumeTypeExtraSpec,
)


class ExtraSpecInline(admin.TabularInline):
    model = VolumeTypeExtraSpec
    extra = 1


@admin.register(VolumeType)
class VolumeTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "description", "is_public", "id"]
    inlines = [ExtraSpecInline]


@admin.register(Volume)
class VolumeAdmin(admin.ModelAdmin):
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


@admin.register(UserMessage)
class UserMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "project", "resource_uuid", "event_id", "user_message"]
    list_filter = ["event_id"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "event_type", "publisher_id", "volume_id", "priority"]
    list_filter = ["event_type", "priority"]


# Quota (limits, defaults class, usages, reservations) lives in its own module.
from volumes import quota_admin  # noqa: E402,F401


@admin.register(Snapshot)
class SnapshotAdmin(admin.ModelAdmin):
    list_display = ["id", "display_name", "volume", "project", "volume_size", "status"]
    list_filter = ["status", "project"]
    search_fields = ["id", "display_name"]


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    """Catalog rows are editable here; files are uploaded through the Images page."""

    list_display = ["name", "disk_format", "size", "min_disk", "status", "visibility", "owner"]
    list_filter = ["status", "disk_format", "visibility"]
    search_fields = ["id", "name"]
    readonly_fields = ["checksum", "created_at", "updated_at"]
