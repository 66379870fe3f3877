"""The volume pages' websockets: a volume's live picture, the Volumes table, and the create
form's limit bars.

``/ws/volumes/<id>/`` streams the volume page and ``/ws/projects/<id>/volumes/`` the
project's table (see :mod:`core.kernel.live`).

``/ws/quota/<project_id>/``: the quota engine nudges the project's quota group
after every reserve, commit, rollback, expiry, limit edit and drift repair; the
consumer answers each nudge with the whole bars fragment (swapped by id), so
creates in other tabs move this tab's bars and a lost nudge is healed by the
next one.
"""

from asgiref.sync import async_to_sync
from channels.generic.websocket import WebsocketConsumer
from django.template.loader import render_to_string

from core.cinder import quota
from core.cinder.access import can_see_project
from core.cinder.models import Volume
from core.kernel import events
from core.kernel.live import FORBIDDEN, LiveConsumer, current_user
from volumes.presenters import volume_context, volume_table
from volumes.quota_bars import limit_bars


class QuotaConsumer(WebsocketConsumer):
    def connect(self):
        user = self.scope.get("user")
        project_id = self.scope["url_route"]["kwargs"]["project_id"]
        if user is None or not can_see_project(user, project_id):
            self.close(code=FORBIDDEN)
            return
        self.project_id = project_id
        self.group = quota.quota_group(project_id)
        async_to_sync(self.channel_layer.group_add)(self.group, self.channel_name)
        self.accept()
        self.send_picture()

    def disconnect(self, code):
        group = getattr(self, "group", None)
        if group:
            async_to_sync(self.channel_layer.group_discard)(group, self.channel_name)

    def receive(self, text_data=None, bytes_data=None):
        pass  # the page only listens; its own request is drawn in the browser

    def quota_changed(self, event):
        self.send_picture()

    def send_picture(self):
        # Re-checked on every picture: a member removed, logged out or deactivated stops here.
        user = current_user(self.scope, self.scope.get("user"))
        if user is None or not can_see_project(user, self.project_id):
            self.close(code=FORBIDDEN)
            return
        context = {"q": limit_bars(self.project_id), "oob": True}
        self.send(text_data=render_to_string("volumes/_quota_bars.html#bars", context))


class VolumeConsumer(LiveConsumer):
    """``/ws/volumes/<id>/``: the volume page's live picture (members and admins only)."""

    def authorise(self) -> list[str] | None:
        self.volume_id = self.scope["url_route"]["kwargs"]["volume_id"]
        volume = Volume.all_objects.filter(id=self.volume_id).only("project_id").first()
        if volume is None or not can_see_project(self.user, volume.project_id):
            return None
        return [events.volume_group(self.volume_id)]

    def render(self) -> str | None:
        volume = Volume.all_objects.select_related("volume_type").filter(id=self.volume_id).first()
        if volume is None:
            return (
                '<section id="volume-facts" hx-swap-oob="true" data-transitional="false">'
                "<p>This volume has been deleted.</p></section>"
            )
        if not can_see_project(self.user, volume.project_id):
            return None  # membership revoked mid-stream
        context = volume_context(volume, self.user) | {"oob": True}
        return render_to_string("volumes/_live.html", context)


class VolumeListConsumer(LiveConsumer):
    """``/ws/projects/<id>/volumes/``: the Volumes page's table, following every change in
    the project (creates, statuses, deletes) without a reload."""

    def authorise(self) -> list[str] | None:
        self.project_id = self.scope["url_route"]["kwargs"]["project_id"]
        if not can_see_project(self.user, self.project_id):
            return None
        return [events.project_group(self.project_id)]

    def render(self) -> str | None:
        if not can_see_project(self.user, self.project_id):
            return None
        volumes = Volume.objects.filter(project_id=self.project_id).select_related("volume_type")
        context = {"volumes": volume_table(volumes), "oob": True}
        return render_to_string("volumes/_table.html", context)
