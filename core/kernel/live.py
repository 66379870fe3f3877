"""Live pages over websockets: a current picture on connect, then a fresh one per change.

Every message is the full picture as HTML fragments, each swapped by its
element id, rendered from the database. Nudges from the channel layer only
say "something changed": a dropped or duplicated nudge cannot leave a wrong
picture, because the next render carries everything.

Nudges are coalesced: a burst of them while a render is under way causes one
more render, not one per nudge, so a consumer drains its channel quickly
(channels-redis silently drops group messages to a channel at capacity) and
the last render always starts after the last change it was told about.

Rights are not frozen at connect: before every render the session is read
again (logged out, password changed, user deactivated: the socket closes) and
the consumer's groups are recomputed from the user as the database has them
now (a membership removed, or admin taken away, takes effect on the next
picture).
"""

import asyncio
import logging
from importlib import import_module
from types import SimpleNamespace

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib import auth

LOG = logging.getLogger(__name__)

# Close codes (4000-4999 are the application's): no access, not logged in.
FORBIDDEN = 4403
UNAUTHENTICATED = 4401


def current_user(scope, user):
    """``user`` as the session stored now vouches for it, or None when it no longer does."""
    session = scope.get("session")
    key = getattr(session, "session_key", None)
    if user is None or key is None:
        return None
    fresh = import_module(settings.SESSION_ENGINE).SessionStore(key)
    now = auth.get_user(SimpleNamespace(session=fresh))  # checks the password hash too
    return now if now.is_authenticated and now.pk == user.pk else None


class LiveConsumer(AsyncWebsocketConsumer):
    """Joins groups, then renders whenever woken, never two renders at once."""

    refresh_seconds: float | None = None

    async def connect(self):
        self.user = self.scope.get("user")
        self.groups_joined: list[str] = []
        if self.user is None or not self.user.is_authenticated:
            await self.close(code=UNAUTHENTICATED)
            return
        groups = await database_sync_to_async(self.authorise)()
        if groups is None:
            await self.close(code=FORBIDDEN)
            return
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined = groups
        await self.accept()
        self._wake = asyncio.Event()
        self._wake.set()  # the current picture, first
        self._tasks = [asyncio.ensure_future(self._render_loop())]
        if self.refresh_seconds:
            self._tasks.append(asyncio.ensure_future(self._ticker()))

    async def disconnect(self, code):
        for task in getattr(self, "_tasks", []):
            task.cancel()
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        pass  # pages only listen

    def nudge(self) -> None:
        wake = getattr(self, "_wake", None)
        if wake is not None:
            wake.set()

    async def volume_changed(self, event):
        self.nudge()

    async def fleet_changed(self, event):
        self.nudge()

    async def _ticker(self):
        while True:
            await asyncio.sleep(self.refresh_seconds)
            self.nudge()

    async def _render_loop(self):
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                groups, html = await database_sync_to_async(self._picture)()
            except Exception:  # keep the stream alive; the next change re-renders
                LOG.exception("Could not render the live picture")
                continue
            if groups is None or html is None:
                await self.close(code=FORBIDDEN)
                return
            await self._follow(groups)
            await self.send(text_data=html)

    def _picture(self) -> tuple[list[str] | None, str | None]:
        """Who may see what, as of now, and the picture for them."""
        self.user = current_user(self.scope, self.user)
        if self.user is None:
            return None, None
        groups = self.authorise()
        return (groups, self.render()) if groups is not None else (None, None)

    async def _follow(self, groups: list[str]) -> None:
        for group in set(self.groups_joined) - set(groups):
            await self.channel_layer.group_discard(group, self.channel_name)
        for group in set(groups) - set(self.groups_joined):
            await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined = groups

    # -- per consumer --------------------------------------------------------

    def authorise(self) -> list[str] | None:
        """The groups to join, or None to refuse (subclasses say; the base refuses)."""
        return None

    def render(self) -> str | None:
        """The full picture, or None when the user may no longer see it."""
        return None
