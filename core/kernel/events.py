"""Nudges on the channel layer: "this volume (or project) changed".

Events carry no state: consumers re-render from the database, so a dropped
or duplicated event can never leave a wrong picture. That is also why they
are sent behind the caller and coalesced: ``send`` returns at once; the first
nudge goes out at once, and whatever is published in the next ``ROUND``
seconds goes out together, each distinct nudge once. A flow's dozen
transitions thus cost a few Redis round trips, not three per transition, and
the caller never waits on them.

Each process owns one event loop in a daemon thread. A process that is about
to end calls ``flush``: RQ work horses after every job (they leave with
``os._exit``), everything else at exit.
"""

import asyncio
import atexit
import logging
import os
import threading

from channels.layers import get_channel_layer
from django.db import transaction

LOG = logging.getLogger(__name__)
SEND_TIMEOUT = 5.0
# The shortest time between two rounds of sends: far below what a person notices.
ROUND = 0.05


def volume_group(volume_id) -> str:
    return f"volume-{volume_id}"


def project_group(project_id) -> str:
    return f"project-{project_id}"


FLEET_GROUP = "fleet"


class _Publisher:
    """Sends what was published, oldest first, each distinct nudge once per round."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.layer = get_channel_layer()
        self.loop = asyncio.new_event_loop()
        self.lock = threading.Lock()
        self.pending: dict[tuple, tuple[str, dict]] = {}
        self.draining = False
        self.flushing = False
        self.wake = asyncio.Event()  # ends a wait between rounds (a flush)
        self.idle = threading.Event()
        self.idle.set()
        thread = threading.Thread(target=self.loop.run_forever, name="events", daemon=True)
        thread.start()

    def publish(self, group: str, message: dict) -> None:
        key = (group, tuple(sorted(message.items())))
        with self.lock:
            self.pending[key] = (group, message)
            self.idle.clear()
            if self.draining:
                return  # the running round picks it up
            self.draining = True
        self.loop.call_soon_threadsafe(self.loop.create_task, self._drain())

    async def _drain(self) -> None:
        while True:
            with self.lock:
                batch = list(self.pending.values())
                self.pending.clear()
                if not batch:
                    self.draining = False
                    self.idle.set()
                    return
            watched = await self._watched({group for group, _ in batch})
            for group, message in batch:  # one after another: one connection, not one each
                if group in watched:
                    await self._send(group, message)
            if not self.flushing:  # let the rest of a burst gather
                try:
                    await asyncio.wait_for(self.wake.wait(), ROUND)
                except TimeoutError:
                    pass

    async def _watched(self, groups: set[str]) -> set[str]:
        """The groups someone watches. Most nudges have no watcher (no page is open on
        that volume), and a send to an empty group still costs two round trips; here one
        pipeline per Redis asks for all. A page that opens meanwhile renders from the
        database anyway. Any doubt (another layer, an error) counts as watched."""
        group_key = getattr(self.layer, "_group_key", None)  # channels-redis's key
        if group_key is None:
            return groups
        by_connection: dict[int, list[str]] = {}
        for group in groups:
            by_connection.setdefault(self.layer.consistent_hash(group), []).append(group)
        watched = set()
        try:
            for index, names in by_connection.items():
                pipe = self.layer.connection(index).pipeline(transaction=False)
                for name in names:
                    pipe.zcard(group_key(name))
                sizes = await asyncio.wait_for(pipe.execute(), SEND_TIMEOUT)
                watched.update(name for name, size in zip(names, sizes, strict=True) if size)
        except Exception:
            LOG.exception("Could not read who watches %s", sorted(groups))
            return groups
        return watched

    async def _send(self, group: str, message: dict) -> None:
        try:
            await asyncio.wait_for(self.layer.group_send(group, message), SEND_TIMEOUT)
        except Exception:  # the picture is in the database; a lost nudge is not fatal
            LOG.exception("Could not publish %s to %s", message.get("type"), group)

    def flush(self, timeout: float) -> bool:
        if self.idle.is_set():
            return True
        self.flushing = True
        self.loop.call_soon_threadsafe(self.wake.set)
        try:
            return self.idle.wait(timeout)
        finally:
            self.flushing = False
            self.loop.call_soon_threadsafe(self.wake.clear)


_publisher: _Publisher | None = None
_lock = threading.Lock()


def _get_publisher() -> _Publisher:
    global _publisher
    with _lock:
        # A forked child inherits the object but not the thread: make its own.
        if _publisher is None or _publisher.pid != os.getpid():
            _publisher = _Publisher()
        return _publisher


def send(group: str, message: dict) -> None:
    """Publish a nudge now (not waiting for it to be sent)."""
    try:
        _get_publisher().publish(group, message)
    except Exception:
        LOG.exception("Could not publish %s to %s", message.get("type"), group)


def flush(timeout: float = 2 * SEND_TIMEOUT) -> bool:
    """Wait until everything this process published has been sent (True) or timed out."""
    publisher = _publisher
    if publisher is None or publisher.pid != os.getpid():
        return True
    return publisher.flush(timeout)


atexit.register(flush)


def volume_changed(volume_id, project_id) -> None:
    """Tell watchers of the volume, its project and the fleet, once committed. The nudge
    names nothing (watchers re-read what they show), so a round's nudges to one project,
    or to the fleet, go out once however many volumes changed."""

    def publish() -> None:
        for group in (volume_group(volume_id), project_group(project_id), FLEET_GROUP):
            send(group, {"type": "volume.changed"})

    transaction.on_commit(publish)


def fleet_changed() -> None:
    transaction.on_commit(lambda: send(FLEET_GROUP, {"type": "fleet.changed"}))
