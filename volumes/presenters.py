"""What the volume pages show, built once for the page, the fragment and the socket.

Everything here is computed from recorded rows (flow runs, notifications, user
messages, and what other services' panels read), so the page, the polling fragment
and every websocket message show the same full picture.
"""

from django.utils import timezone

from core.cinder.models import Notification, Snapshot, UserMessage, Volume
from core.kernel import panels
from core.kernel.models import FlowRun
from volumes.api import DELETABLE_STATUSES
from volumes.history import volume_history
from volumes.lanes import build_lanes, build_operations
from volumes.surprises import surprises
from volumes.timeline import build_gantt, replay_script

# Templates other operations add to the actions list (attach, revert, retype, migrate).
ACTION_TEMPLATES: list[str] = []
# Cinder's API checks, for what the actions section offers (the API still decides).
EXTENDABLE = ("available", "in-use")


def volume_context(volume: Volume, viewer=None) -> dict:
    """Everything the volume page shows; ``viewer`` decides whether admin actions appear."""
    runs = list(
        FlowRun.objects.filter(volume_id=volume.id).order_by("created_at").prefetch_related("tasks")
    )
    lanes = build_lanes(volume, runs)
    operations = build_operations(runs)
    user_messages = list(UserMessage.objects.filter(resource_uuid=volume.id).order_by("created_at"))
    notifications = list(Notification.objects.filter(volume_id=volume.id).order_by("created_at"))
    return {
        "volume": volume,
        "lanes": lanes,
        "operations": operations,
        "gantt": build_gantt(
            [*lanes, *({"attempts": o.attempts} for o in operations)], timezone.now()
        ),
        "panels": panels.for_volume(volume.id),
        "user_messages": user_messages,
        "notifications": notifications,
        "history": volume_history(runs, notifications, user_messages),
        "replay": replay_script(volume, lanes),
        "snapshots": list(Snapshot.objects.filter(volume_id=volume.id).order_by("created_at")),
        "extendable": EXTENDABLE,
        "deletable": DELETABLE_STATUSES,
        "extra_actions": ACTION_TEMPLATES,
        "viewer_is_admin": bool(viewer is not None and viewer.is_superuser),
        "teaching": any(run.teaching for run in runs),
        "surprises": surprises(volume, runs),
    }


def volume_table(volumes) -> list[Volume]:
    """Volumes with the latest user message attached to each error one."""
    volumes = list(volumes)
    ids = [v.id for v in volumes if v.status == "error"]
    reasons = {}
    for message in UserMessage.objects.filter(resource_uuid__in=ids).order_by("created_at"):
        reasons[message.resource_uuid] = message.user_message
    for volume in volumes:
        volume.reason = reasons.get(volume.id)
    return volumes
