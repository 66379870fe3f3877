"""User messages and notifications: what users and operators are told, as rows."""

from django.utils import timezone

from core.cinder.exceptions import ImageTooBig, NoValidBackend
from core.cinder.models import Notification, UserMessage, Volume, new_request_id
from core.kernel import events, plain_sql

# Cinder's message_field event ids: VOLUME_<resource>_<action>_<detail>.
SCHEDULE_ALLOCATE_VOLUME = "VOLUME_VOLUME_001_003"
CREATE_VOLUME_FROM_BACKEND = "VOLUME_VOLUME_008_012"
# Work lost with its job: Cinder's actions with its UNKNOWN_ERROR detail ('001'). Cinder
# has no action for deleting or detaching a volume, so those are Cinderlab's own.
WORK_LOST = {
    ("VOLUME", "creating"): ("VOLUME_VOLUME_008_001", "create volume from backend storage"),
    ("VOLUME", "downloading"): ("VOLUME_VOLUME_008_001", "create volume from backend storage"),
    ("VOLUME", "deleting"): ("VOLUME_VOLUME_DELETE_001", "delete volume"),
    ("VOLUME", "extending"): ("VOLUME_VOLUME_007_001", "extend volume"),
    ("VOLUME", "reverting"): ("VOLUME_VOLUME_REVERT_001", "revert volume to snapshot"),
    ("VOLUME", "retyping"): ("VOLUME_VOLUME_RETYPE_001", "retype volume"),
    ("VOLUME", "migrating"): ("VOLUME_VOLUME_MIGRATE_001", "migrate volume"),
    ("VOLUME", "attaching"): ("VOLUME_VOLUME_002_001", "attach volume"),
    ("VOLUME", "reserved"): ("VOLUME_VOLUME_004_001", "update attachment"),
    ("VOLUME", "detaching"): ("VOLUME_VOLUME_DETACH_001", "detach volume"),
    ("SNAPSHOT", "creating"): ("VOLUME_VOLUME_SNAPSHOT_009_001", "create snapshot"),
    ("SNAPSHOT", "deleting"): ("VOLUME_VOLUME_SNAPSHOT_010_001", "delete snapshot"),
}


# Cinder allows no free-form user messages (nothing of a server's insides reaches a user):
# a fixed detail per failure. The error itself goes to the notification and the task trace.
UNKNOWN_ERROR = "An unknown error occurred."
DRIVER_FAILED_CREATE = "Driver failed to create the volume."
NOT_ENOUGH_SPACE_FOR_IMAGE = "Image used for creating volume exceeds available space."


def schedule_failed(context: dict, volume_id: str, error: Exception, request_spec: dict) -> None:
    # NoValidBackend's text is Cinderlab's own account of the filters (no server detail):
    # the lab's reason to exist, where Cinder says "Could not find any available weighted
    # backend."
    text = str(error) if isinstance(error, NoValidBackend) else UNKNOWN_ERROR
    UserMessage.objects.create(
        request_id=context.get("request_id") or new_request_id(),
        project_id=context["project_id"],
        resource_uuid=volume_id,
        event_id=SCHEDULE_ALLOCATE_VOLUME,
        user_message=f"schedule allocate volume: {text}",
        detail=type(error).__name__,
    )
    scheduler_error(context, volume_id, "create_volume", error, request_spec, "error")
    events.volume_changed(volume_id, context["project_id"])


def scheduler_error(context: dict, volume_id: str, method: str, error, request_spec, state):
    """Cinder's ``scheduler.<method>`` notification (priority ERROR) for a refused request."""
    Notification.objects.create(
        project_id=context["project_id"],
        volume_id=volume_id,
        event_type=f"scheduler.{method}",
        publisher_id="scheduler",
        priority="ERROR",
        payload={
            "request_spec": request_spec,
            "volume_id": volume_id,
            "state": state,
            "method": method,
            "reason": str(error),
        },
    )


def driver_failed(context: dict, volume_id: str, error: Exception) -> None:
    too_big = isinstance(error, ImageTooBig)
    UserMessage.objects.create(
        request_id=context.get("request_id") or new_request_id(),
        project_id=context["project_id"],
        resource_uuid=volume_id,
        event_id=CREATE_VOLUME_FROM_BACKEND,
        user_message="create volume from backend storage: "
        + (NOT_ENOUGH_SPACE_FOR_IMAGE if too_big else DRIVER_FAILED_CREATE),
        detail=type(error).__name__,
    )
    events.volume_changed(volume_id, context["project_id"])


# Cinder's message_field actions and details for the operations after a create. Cinder has
# no action (and tells users nothing) for a failed revert, retype or migration: those three
# are Cinderlab's own, named like its delete.
ACTIONS = {
    "attach": ("002", "attach volume"),
    "update_attachment": ("004", "update attachment"),
    "extend": ("007", "extend volume"),
    "revert": ("REVERT", "revert volume to snapshot"),
    "retype": ("RETYPE", "retype volume"),
    "migrate": ("MIGRATE", "migrate volume"),
}
DETAILS = {
    "unknown": ("001", UNKNOWN_ERROR),
    "no_backend": ("003", "Could not find any available weighted backend."),
    "driver_failed_extend": ("010", "Volume Driver failed to extend volume."),
    "volume_invalid_state": ("027", "Volume status is invalid."),
    "attach_error": ("021", "Failed to attach volume."),
    "detach_error": ("022", "Failed to detach volume."),
}


def operation_failed(volume, action: str, detail: str, error: Exception | None = None) -> None:
    """A user message for a failed operation, with Cinder's event id for action and detail.
    As for a create, NoValidBackend is told with Cinderlab's account of the filters."""
    action_id, action_text = ACTIONS[action]
    detail_id, detail_text = DETAILS[detail]
    if isinstance(error, NoValidBackend):
        detail_text = str(error)
    UserMessage.objects.create(
        project_id=volume.project_id,
        resource_uuid=volume.id,
        event_id=f"VOLUME_VOLUME_{action_id}_{detail_id}",
        user_message=f"{action_text}: {detail_text}",
        detail=type(error).__name__ if error else detail.upper(),
    )
    events.volume_changed(volume.id, volume.project_id)


def notify_volume_usage(volume: Volume, event_suffix: str, host: str) -> Notification:
    """``volume.<suffix>`` with Cinder's usage payload fields."""
    now = timezone.now()
    payload = {
        "tenant_id": volume.project_id,
        "host": host,
        "user_id": str(volume.user_id),
        "availability_zone": volume.availability_zone,
        "volume_id": str(volume.id),
        "volume_type": str(volume.volume_type_id),
        "display_name": volume.display_name,
        "launched_at": (volume.launched_at or now).isoformat(),
        "created_at": volume.created_at.isoformat(),
        "status": volume.status,
        "snapshot_id": str(volume.snapshot_id) if volume.snapshot_id else None,
        "size": volume.size,
        "replication_status": None,
        "replication_extended_status": None,
        "replication_driver_data": None,
        "metadata": volume.metadata,
        "volume_attachment": [],
    }
    return _notify(
        volume.project_id, volume.id, f"volume.{event_suffix}", f"volume.{host}", payload
    )


def notify_snapshot_usage(snapshot, event_suffix: str, host: str) -> Notification:
    """``snapshot.<suffix>`` with Cinder's snapshot usage payload fields."""
    payload = {
        "tenant_id": snapshot.project_id,
        "user_id": str(snapshot.user_id),
        "availability_zone": snapshot.volume.availability_zone,
        "volume_id": str(snapshot.volume_id),
        "volume_size": snapshot.volume_size,
        "snapshot_id": str(snapshot.id),
        "display_name": snapshot.display_name,
        "created_at": snapshot.created_at.isoformat(),
        "status": snapshot.status,
        "deleted": "",
        "metadata": snapshot.metadata,
    }
    return _notify(
        snapshot.project_id,
        snapshot.volume_id,
        f"snapshot.{event_suffix}",
        f"snapshot.{host}",
        payload,
    )


def _notify(project_id, volume_id, event_type: str, publisher: str, payload: dict):
    note = Notification(
        project_id=project_id,
        volume_id=volume_id,
        event_type=event_type,
        publisher_id=publisher,
        payload=payload,
    )
    plain_sql.insert(note)
    events.volume_changed(volume_id, project_id)
    return note


def work_lost(resource, resource_type: str, status: str, why: str) -> None:
    """The job doing ``status`` on the resource died and nobody can finish it."""
    event_id, action = WORK_LOST[(resource_type, status)]
    UserMessage.objects.create(
        project_id=resource.project_id,
        resource_type="VOLUME" if resource_type == "VOLUME" else "VOLUME_SNAPSHOT",
        resource_uuid=resource.id,
        event_id=event_id,
        user_message=f"{action}: the work was lost ({why}) and has been cleaned up.",
        detail="WORK_CLEANED_UP",
    )
