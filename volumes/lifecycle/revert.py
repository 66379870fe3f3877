"""Revert to snapshot (``revert``, from 3.40): the volume goes back to its latest snapshot.

Cinder's ``v3/volumes.py`` checks the snapshot is the latest and of the volume's size (400
otherwise), then ``volume/api.py`` claims ``reverting`` for the volume and ``restoring`` for
the snapshot (409 if either is not ``available``) and casts to the volume's backend.
"""

from django.db import transaction

from core.cinder import exceptions
from core.cinder.models import Snapshot, Volume
from core.kernel import events
from volumes.lifecycle import operation_context


def latest_snapshot(volume: Volume) -> Snapshot | None:
    """Cinder's ``snapshot_get_latest_for_volume``: the newest by creation time."""
    return Snapshot.objects.filter(volume_id=volume.id).order_by("-created_at").first()


def check_latest(volume: Volume, snapshot_id: str | None) -> Snapshot:
    """The API's checks (a 400 in Cinder's words): the named snapshot must be the volume's
    latest and of the volume's size."""
    latest = latest_snapshot(volume)
    if latest is None:
        raise exceptions.Invalid(f"Volume {volume.id} doesn't have any snapshots.")
    if snapshot_id is None or str(snapshot_id) != str(latest.id):
        raise exceptions.Invalid(
            f"Specified snapshot {snapshot_id} is None or not the latest one of volume {volume.id}."
        )
    if volume.size != latest.volume_size:
        raise exceptions.Invalid(
            f"Can't revert volume {volume.id} to its latest snapshot {latest.id}. "
            "The volume size must be equal to the snapshot size."
        )
    return latest


def revert(context: dict, volume: Volume, snapshot: Snapshot) -> None:
    """Claim both (``reverting``, ``restoring``) and cast; a claim lost raises InvalidVolume or
    InvalidSnapshot (the REST layer answers 409), leaving both as they were."""
    from agent import rpcapi as volume_rpcapi

    why = f"Can't revert volume {volume.id} to its latest snapshot {snapshot.id}."
    with transaction.atomic():
        if not Volume.conditional_update(volume.id, {"status": "available"}, status="reverting"):
            raise exceptions.InvalidVolume(reason=f"{why} Volume's status must be 'available'.")
        if not Snapshot.conditional_update(
            snapshot.id, {"status": "available"}, status="restoring"
        ):
            # Cinder leaves the volume 'reverting' here; nothing half-written is kept.
            transaction.set_rollback(True)
            raise exceptions.InvalidSnapshot(reason=f"{why} Snapshot's status must be 'available'.")
        volume_rpcapi.revert_to_snapshot(
            operation_context(context), volume.host, str(volume.id), str(snapshot.id)
        )
    events.volume_changed(volume.id, volume.project_id)
