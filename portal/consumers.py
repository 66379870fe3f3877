"""Websocket consumers: a current picture on connect, then a fresh one per change.

Every message is a full-state HTML fragment rendered from the database and
swapped by element id, so a dropped or duplicated nudge cannot leave a
wrong picture: the next one carries everything.
"""

import logging

from asgiref.sync import async_to_sync
from channels.generic.websocket import WebsocketConsumer
from django.template.loader import render_to_string

from portal import events
from portal.access import can_see_project
from volumes.models import Volume

LOG = logging.getLogger(__name__)


class VolumeConsumer(WebsocketConsumer):
    """``/ws/volumes/<id>/``: the volume page's live fragment."""

    def connect(self):
        user = self.scope.get("user")
        volume_id = self.scope["url_route"]["kwargs"]["volume_id"]
        volume = Volume.objects.filter(id=volume_id).only("project_id").first()
        if user is None or volume is None or not can_see_project(user, volume.project_id):
            self.close(code=4403)
            return
        self.volume_id = volume_id
        self.group = events.volume_group(volume_id)
        async_to_sync(self.channel_layer.group_add)(self.group, self.channel_name)
        self.accept()
        self.send_picture()

    def disconnect(self, code):
        group = getattr(self, "group", None)
        if group:
            async_to_sync(self.channel_layer.group_discard)(group, self.channel_name)

    def receive(self, text_data=None, bytes_data=None):
        pass  # the page only listens

    def volume_changed(self, event):
        self.send_picture()

    def send_picture(self):
        from volumes.presenters import volume_context

        volume = Volume.objects.select_related("volume_type").filter(id=self.volume_id).first()
        if volume is None:
            self.send(
                text_data='<div id="volume-live" hx-swap-oob="true"><p>This volume '
                "has been deleted.</p></div>"
            )
            return
        context = volume_context(volume) | {"oob": True}
        self.send(text_data=render_to_string("volumes/_live.html", context))


class DashboardConsumer(WebsocketConsumer):
    """``/ws/dashboard/``: the project's volume table (every project's, for admins)."""

    def connect(self):
        from portal.access import projects_of

        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            self.close(code=4401)
            return
        self.user = user
        if user.is_superuser:
            self.groups_joined = [events.FLEET_GROUP]
        else:
            self.groups_joined = [events.project_group(p.pk) for p in projects_of(user)]
        for group in self.groups_joined:
            async_to_sync(self.channel_layer.group_add)(group, self.channel_name)
        self.accept()
        self.send_picture()

    def disconnect(self, code):
        for group in getattr(self, "groups_joined", []):
            async_to_sync(self.channel_layer.group_discard)(group, self.channel_name)

    def receive(self, text_data=None, bytes_data=None):
        pass

    def volume_changed(self, event):
        self.send_picture()

    def fleet_changed(self, event):
        self.send_picture()

    def send_picture(self):
        from portal.dashboard import dashboard_context

        context = dashboard_context(self.user) | {"oob": True}
        self.send(text_data=render_to_string("portal/_dashboard_live.html", context))
