from django.urls import path

from portal.consumers import DashboardConsumer
from volumes.consumers import QuotaConsumer, VolumeConsumer, VolumeListConsumer

websocket_urlpatterns = [
    path("ws/volumes/<uuid:volume_id>/", VolumeConsumer.as_asgi()),
    path("ws/dashboard/", DashboardConsumer.as_asgi()),
    path("ws/quota/<str:project_id>/", QuotaConsumer.as_asgi()),
    path("ws/projects/<str:project_id>/volumes/", VolumeListConsumer.as_asgi()),
]
