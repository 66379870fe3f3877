from django.urls import path

from portal import consumers
from volumes.consumers import QuotaConsumer

websocket_urlpatterns = [
    path("ws/volumes/<uuid:volume_id>/", consumers.VolumeConsumer.as_asgi()),
    path("ws/dashboard/", consumers.DashboardConsumer.as_asgi()),
    path("ws/quota/<str:project_id>/", QuotaConsumer.as_asgi()),
]
