"""What happened, in words: flow starts and ends, notifications and user messages.

One feed, read two ways: a volume's History (all of it, oldest first) and the
dashboard's Events (the latest across the projects a user may see, newest first).
"""

from core.cinder.models import Notification, UserMessage
from core.kernel.models import FlowRun

FEED_LENGTH = 30


def entries(runs, notifications, user_messages) -> list[dict]:
    """One entry per flow start and end, notification and user message, unsorted."""
    found = []
    for run in runs:
        where = f" on {run.host}" if run.host else ""
        name = f"{run.flow_name or run.get_flow_display()} attempt {run.attempt}"
        about = {"kind": "flow", "volume_id": run.volume_id}
        if run.started_at:
            found.append(
                {**about, "at": run.started_at, "icon": "▶", "text": f"{name} started{where}"}
            )
        if run.ended_at:
            found.append(
                {**about, "at": run.ended_at, "icon": "■", "text": f"{name} {run.state}"}
                | {"state": run.state}
            )
    for n in notifications:
        found.append(
            {
                "at": n.created_at,
                "kind": "notification",
                "icon": "✉",
                "text": n.event_type,
                "detail": f"from {n.publisher_id} ({n.priority})",
                "event": n.event_type,
                "volume_id": n.volume_id,
            }
        )
    for m in user_messages:
        found.append(
            {
                "at": m.created_at,
                "kind": "message",
                "icon": "⚠",
                "text": m.user_message,
                "detail": m.event_id,
                "volume_id": m.resource_uuid,
            }
        )
    return found


def volume_history(runs, notifications, user_messages) -> list[dict]:
    """A volume's whole story, oldest first."""
    return sorted(entries(runs, notifications, user_messages), key=lambda e: e["at"])


def recent(project_ids: list[str] | None, names: dict, length: int = FEED_LENGTH) -> list[dict]:
    """The latest ``length`` entries of these projects (every project for None), newest first.

    ``names`` maps volume ids to what to call them; other volumes get a short id.
    """

    def latest(queryset):
        if project_ids is not None:
            queryset = queryset.filter(project_id__in=project_ids)
        return queryset.order_by("-created_at")[:length]

    found = entries(
        latest(FlowRun.objects.all()),
        latest(Notification.objects.all()),
        latest(UserMessage.objects.all()),
    )
    found.sort(key=lambda e: e["at"], reverse=True)
    found = found[:length]
    for e in found:
        e["volume_name"] = names.get(e["volume_id"]) or str(e["volume_id"] or "")[:8]
    return found
