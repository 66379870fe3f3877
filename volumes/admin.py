from django.contrib import admin

from volumes.models import (
    Notification,
    QuotaClass,
    QuotaLimit,
    QuotaUsage,
    Reservation,
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


@admin.register(QuotaClass)
class QuotaClassAdmin(admin.ModelAdmin):
    list_display = ["class_name", "resource", "hard_limit"]
    list_editable = ["hard_limit"]


@admin.register(QuotaLimit)
class QuotaLimitAdmin(admin.ModelAdmin):
    list_display = ["project", "resource", "hard_limit"]
    list_filter = ["project"]
    list_editable = ["hard_limit"]


@admin.register(QuotaUsage)
class QuotaUsageAdmin(admin.ModelAdmin):
    list_display = ["project", "resource", "in_use", "reserved", "updated_at"]
    list_filter = ["project"]
    readonly_fields = ["updated_at"]


@admin.register(Reservation)
class ReservationAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "resource", "delta", "expire", "created_at"]
    list_filter = ["project", "resource"]
