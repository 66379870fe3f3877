"""The admin's repair tools (Cinder's ``contrib/admin_actions.py``): reset a volume's or a
snapshot's statuses, force-delete either. Resetting also drops the resource's work in flight
(``worker_destroy``), so a job still under way finds nothing to finish and changes nothing.
"""

import socket

from django.db import transaction

from core.cinder import attachments, cleanable, exceptions, messages
from core.cinder.models import SNAPSHOT_STATUSES, VOLUME_STATUSES, Snapshot, Volume
from core.kernel import events
from volumes import api

ATTACH_STATUSES = ("attached", "detached")
MIGRATION_STATUSES = ("migrating", "error", "success", "completing", "none", "starting")
REFUSED_RESETS = ("deleting", "error_deleting")


def _checked(value: str | None, valid, what: str) -> str | None:
    if not value:
        return None
    lowered = value.lower()
    if lowered not in valid:
        raise exceptions.InvalidInput(
            reason=f"{what}: {value} is invalid, valid statuses are: {tuple(valid)}."
        )
    return lowered


def reset_volume(
    volume: Volume,
    status: str | None = None,
    attach_status: str | None = None,
    migration_status: str | None = None,
) -> dict:
    """Set what the admin says; returns the update. 400 for unknown or refused statuses."""
    update = checked_reset(volume, status, attach_status, migration_status)
    host = socket.gethostname()
    messages.notify_volume_usage(volume, "reset_status.start", host)
    with transaction.atomic():
        Volume.conditional_update(volume.id, {}, **update)
        cleanable.drop("VOLUME", volume.id)
        if update.get("attach_status") == "detached":  # its attachments go, as Cinder's
            for attachment_id in volume.attachments.values_list("id", flat=True):
                attachments.volume_detached(volume.id, attachment_id)
    volume.refresh_from_db()
    messages.notify_volume_usage(volume, "reset_status.end", host)
    return update


def checked_reset(
    volume: Volume,
    status: str | None = None,
    attach_status: str | None = None,
    migration_status: str | None = None,
) -> dict:
    """The update a reset would make, or InvalidInput saying why Cinder refuses it."""
    valid = [s for s in VOLUME_STATUSES if s != "deleted"]
    update = {
        "status": _checked(status, valid, "Volume status"),
        "attach_status": _checked(attach_status, ATTACH_STATUSES, "Volume attach status"),
        "migration_status": _checked(
            migration_status, MIGRATION_STATUSES, "Volume migration status"
        ),
    }
    update = {k: v for k, v in update.items() if v is not None}
    if not update:
        raise exceptions.InvalidInput(
            reason="Must specify 'status', 'attach_status' or 'migration_status' for update."
        )
    if update.get("status") in REFUSED_RESETS:
        raise exceptions.InvalidInput(reason=f"Cannot reset-state to {update['status']}")
    if update.get("status") == "in-use" and not volume.attachments.exists():
        raise exceptions.InvalidInput(
            reason="Cannot reset-state to in-use because volume does not have any attachments."
        )
    if update.get("migration_status") == "none":
        update["migration_status"] = ""
    return update


def reset_snapshot(snapshot: Snapshot, status: str | None) -> None:
    if not status or status.lower() not in SNAPSHOT_STATUSES:
        raise exceptions.InvalidInput(
            reason=f"Snapshot status: {status} is invalid, valid statuses are: "
            f"{tuple(SNAPSHOT_STATUSES)}."
        )
    with transaction.atomic():
        Snapshot.conditional_update(snapshot.id, {}, status=status.lower())
        cleanable.drop("SNAPSHOT", snapshot.id)
    events.volume_changed(snapshot.volume_id, snapshot.project_id)


def force_delete_volume(context: dict, volume: Volume) -> None:
    """Delete whatever the status (not while attached or migrating), as ``delete(force=True)``."""
    api.delete(context, volume.id, force=True)


def force_delete_snapshot(context: dict, snapshot: Snapshot) -> None:
    api.delete_snapshot(context, snapshot.id, force=True)
