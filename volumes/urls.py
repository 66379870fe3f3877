from django.urls import path

from volumes import action_views, attach_views, move_views, views

app_name = "volumes"
urlpatterns = [
    path("", views.volume_list, name="list"),
    path("create/", views.volume_create, name="create"),
    path("create/quota-bars/", views.quota_bars, name="quota_bars"),
    path("<uuid:volume_id>/", views.volume_detail, name="detail"),
    path("<uuid:volume_id>/live/", views.volume_live, name="live"),
    path("<uuid:volume_id>/delete/", action_views.volume_delete, name="delete"),
    path("<uuid:volume_id>/extend/", action_views.volume_extend, name="extend"),
    path("<uuid:volume_id>/reset-status/", action_views.volume_reset_status, name="reset-status"),
    path("<uuid:volume_id>/force-delete/", action_views.volume_force_delete, name="force-delete"),
    path("<uuid:volume_id>/revert/", move_views.volume_revert, name="revert"),
    path("<uuid:volume_id>/retype/", move_views.volume_retype, name="retype"),
    path("<uuid:volume_id>/migrate/", move_views.volume_migrate, name="migrate"),
    path("<uuid:volume_id>/snapshots/", views.snapshot_create, name="snapshot-create"),
    path("<uuid:volume_id>/attach/", attach_views.attach, name="attach"),
    path(
        "<uuid:volume_id>/attachments/<uuid:attachment_id>/detach/",
        attach_views.detach,
        name="detach",
    ),
    path("snapshots/<uuid:snapshot_id>/delete/", views.snapshot_delete, name="snapshot-delete"),
    path("images/", views.image_list, name="images"),
]
