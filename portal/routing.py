from django.urls import path

from portal import consumers

websocket_urlpatterns = [
    path("ws/volumes/<uuid:volume_id>/", consumers.VolumeConsumer.as_asgi()),
    path("ws/dashboard/", consumers.DashboardConsumer.as_asgi()),
]
