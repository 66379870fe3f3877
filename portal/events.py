"""Nudges on the channel layer: "this volume (or project) changed".

Events carry no state: consumers re-render from the database, so a dropped
or duplicated event can never leave a wrong picture. Sends are synchronous
(an RQ work horse exits right after its job, so nothing may be left queued)
but reuse one event loop per process, so each send is one Redis round trip.
"""

import asyncio
import logging
import os
import threading

from channels.layers import get_channel_layer
from django.db import transaction

LOG = logging.getLogger(__name__)
SEND_TIMEOUT = 5.0


def volume_group(volume_id) -> str:
    return f"volume-{volume_id}"


def project_group(project_id) -> str:
    return f"project-{project_id}"


FLEET_GROUP = "fleet"


class _Publisher:
    """An event loop in a daemon thread, owned by one process."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        thread = threading.Thread(target=self.loop.run_forever, name="events", daemon=True)
        thread.start()
        self.layer = get_channel_layer()

    def send(self, group: str, message: dict) -> None:
        future = asyncio.run_coroutine_threadsafe(self.layer.group_send(group, message), self.loop)
        future.result(timeout=SEND_TIMEOUT)


_publisher: _Publisher | None = None
_lock = threading.Lock()


def _get_publisher() -> _Publisher:
    global _publisher
    with _lock:
        # A forked child inherits the object but not the thread: make its own.
        if _publisher is None or _publisher.pid != os.getpid():
            _publisher = _Publisher()
        return _publisher


def send_now(group: str, message: dict) -> None:
    try:
        _get_publisher().send(group, message)
    except Exception:  # the picture is in the database; a lost nudge is not fatal
        LOG.exception("Could not publish %s to %s", message.get("type"), group)


def volume_changed(volume_id, project_id, kind: str = "flow") -> None:
    """Tell watchers of the volume, its project and the fleet, once committed."""

    def send() -> None:
        message = {"type": "volume.changed", "volume_id": str(volume_id), "kind": kind}
        send_now(volume_group(volume_id), message)
        send_now(project_group(project_id), message)
        send_now(FLEET_GROUP, message)

    transaction.on_commit(send)


def fleet_changed() -> None:
    transaction.on_commit(lambda: send_now(FLEET_GROUP, {"type": "fleet.changed"}))
