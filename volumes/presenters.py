"""What the volume pages show, built once for the page, the fragment and the socket."""

from functools import cache

from agent.flows import get_flow as manager_flow
from portal.models import FlowRun
from scheduler.flows import get_flow as scheduler_flow
from scheduler.models import DecisionTrace
from volumes.flows import get_flow as api_flow
from volumes.models import Notification, UserMessage, Volume


@cache
def planned_tasks() -> dict[str, list[str]]:
    """Each flow's task class names in order, read off the flows themselves."""
    flows = {"api": api_flow(), "scheduler": scheduler_flow(), "manager": manager_flow(None, "")}
    return {key: [type(t).__name__ for t, _ in flow.iter_nodes()] for key, flow in flows.items()}


def volume_context(volume: Volume) -> dict:
    runs = list(FlowRun.objects.filter(volume_id=volume.id).prefetch_related("tasks"))
    plan = planned_tasks()
    lanes = [
        {
            "flow": flow,
            "label": label,
            "runs": [r for r in runs if r.flow == flow],
            "planned": plan[flow],
        }
        for flow, label in FlowRun.FLOWS
    ]
    return {
        "volume": volume,
        "lanes": lanes,
        "traces": DecisionTrace.objects.filter(volume_id=volume.id).order_by("attempt", "id"),
        "user_messages": UserMessage.objects.filter(resource_uuid=volume.id),
        "notifications": Notification.objects.filter(volume_id=volume.id).order_by("created_at"),
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
