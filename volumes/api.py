"""cinder-api's entry points, shared by the form and REST: create, delete, snapshots.

Create runs the API flow in the caller's process (the web request), as Cinder
does, and returns the new volume; refused requests raise Cinder's errors and
leave nothing behind. Delete and the snapshot calls claim their status change
with a compare-and-swap and cast the work to the backend's agent.
"""

import logging
import socket
import uuid

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from agent import rpcapi as volume_rpcapi
from core.cinder import cleanable, exceptions, messages, quota
from core.cinder.models import Snapshot, Volume, VolumeType, new_request_id
from core.kernel import events, flows, plain_sql
from core.kernel.hosts import extract_host
from core.kernel.models import Service
from core.kernel.recorder import FlowRecorder
from volumes.flows import get_flow

LOG = logging.getLogger(__name__)

# Cinder's volume/api.py delete: the statuses a volume may be deleted from.
DELETABLE_STATUSES = ("available", "error", "error_restoring", "error_extending", "error_managing")
CASCADE_SNAPSHOT_STATUSES = ("available", "error", "deleting")
SNAPSHOT_DELETABLE_STATUSES = ("available", "error")
INVALID_DELETE = (
    "Volume status must be available or error or error_restoring or error_extending or "
    "error_managing and must not be migrating, attached, belong to a group, have snapshots, "
    "awaiting a transfer, or be disassociated from snapshots after volume transfer."
)


def request_context(user, project) -> dict:
    """The plain-value context that travels with a request through every flow."""
    return {
        "user_id": user.pk,
        "project_id": str(project.pk),
        "is_admin": bool(user.is_superuser),
        "request_id": new_request_id(),
    }


def create(
    context: dict,
    *,
    size=None,
    name: str = "",
    description: str = "",
    volume_type: str | None = None,
    availability_zone: str | None = None,
    metadata: dict | None = None,
    scheduler_hints: dict | None = None,
    snapshot_id: str | None = None,
    source_volid: str | None = None,
    image_id: str | None = None,
    volume_id: str | None = None,
) -> Volume:
    volume_id = volume_id or str(uuid.uuid4())
    store = {
        "context": context,
        "requested_volume_id": volume_id,
        "raw_size": size,
        "name": name,
        "description": description,
        "raw_volume_type": volume_type,
        "raw_availability_zone": availability_zone,
        "raw_snapshot_id": snapshot_id or None,
        "raw_source_volid": source_volid or None,
        "raw_image_id": image_id or None,
        "metadata": metadata or {},
        "scheduler_hints": scheduler_hints or {},
        "optional_args": {"is_quota_committed": False},
    }
    engine = flows.load(get_flow(), store)
    # Refused before the row existed: the recorder leaves nothing behind.
    created = Volume.objects.filter(id=volume_id).exists
    with FlowRecorder(
        engine, volume_id=volume_id, project_id=context["project_id"], flow="api", keep=created
    ):
        engine.run()
    # Reads by key: the volume the flow made, and its type for the answer.
    volume = Volume.objects.by_id(volume_id)
    if volume is None:  # deleted since the flow made it
        raise exceptions.VolumeNotFound(volume_id=volume_id)
    volume.volume_type = plain_sql.by_key(VolumeType, {"id": volume.volume_type_id})
    return volume


# -- lookups -------------------------------------------------------------------


def _visible(context: dict, queryset):
    """Admins see every project's resources; others only their project's."""
    return (
        queryset if context.get("is_admin") else queryset.filter(project_id=context["project_id"])
    )


def get_volume(context: dict, volume_id) -> Volume:
    try:
        found = _visible(context, Volume.objects.filter(id=uuid.UUID(str(volume_id)))).first()
    except ValueError:
        found = None
    if found is None:
        raise exceptions.VolumeNotFound(volume_id=volume_id)
    return found


def get_snapshot(context: dict, snapshot_id) -> Snapshot:
    try:
        found = _visible(
            context,
            Snapshot.objects.select_related("volume").filter(id=uuid.UUID(str(snapshot_id))),
        ).first()
    except ValueError:
        found = None
    if found is None:
        raise exceptions.SnapshotNotFound(snapshot_id=snapshot_id)
    return found


# -- delete ----------------------------------------------------------------------


def assert_not_frozen(host: str | None) -> None:
    """Cinder refuses changes on a frozen backend (os-services/freeze)."""
    backend = extract_host(host, "backend")
    if backend and Service.objects.filter(host=backend, frozen=True).exists():
        raise exceptions.InvalidInput(
            reason="Modification operations are not allowed on frozen storage backends."
        )


def delete(context: dict, volume_id, cascade: bool = False, force: bool = False) -> None:
    """Cinder's delete: a never-scheduled volume goes at once; otherwise the volume is
    claimed (``deleting``) by compare-and-swap and the agent removes it.

    Raises VolumeNotFound, or InvalidVolume when the volume may not be deleted now.
    """
    volume = get_volume(context, volume_id)
    if volume.host is None and _delete_unscheduled(context, volume):
        return
    assert_not_frozen(volume.host)
    claimed = (
        Volume.objects.filter(id=volume.id)
        .exclude(attach_status="attached")
        .exclude(migration_status__in=("starting", "migrating", "completing"))
    )
    if not force:
        claimed = claimed.filter(status__in=DELETABLE_STATUSES)
    snapshots = Snapshot.objects.filter(volume_id=OuterRef("pk"))
    if cascade:
        snapshots = snapshots.exclude(status__in=CASCADE_SNAPSHOT_STATUSES)
    claimed = claimed.filter(~Exists(snapshots))
    new_status = "error_managing_deleting" if volume.status == "error_managing" else "deleting"
    with transaction.atomic():
        won = claimed.update(status=new_status, updated_at=timezone.now()) == 1
        if not won:
            raise exceptions.InvalidVolume(reason=INVALID_DELETE)
        if cascade:
            Snapshot.objects.filter(volume_id=volume.id).update(status="deleting")
        host = Volume.objects.values_list("host", flat=True).get(id=volume.id)
        volume_rpcapi.delete_volume(context, host, str(volume.id), cascade=cascade)
    events.volume_changed(volume.id, volume.project_id)


def _delete_unscheduled(context: dict, volume: Volume) -> bool:
    """No host: the row goes directly and quota is given back (no status check, as Cinder).

    The delete is conditional on the host still being empty, so a scheduler that
    picks a backend meanwhile sends us down the normal path instead.
    """
    with transaction.atomic():
        messages.notify_volume_usage(volume, "delete.start", socket.gethostname())
        deleted = Volume.destroy(volume.id, {"host__isnull": True})
        if not deleted:
            transaction.set_rollback(True)
            return False
        cleanable.drop("VOLUME", volume.id)  # the scheduler's job then finds nothing to do
        if volume.use_quota and volume.status != "error_managing":
            quota.release(
                volume.project_id, quota.volume_deltas(volume.size, volume.volume_type.name)
            )
        messages.notify_volume_usage(volume, "delete.end", socket.gethostname())
    LOG.info("Deleted unscheduled volume %s directly", volume.id)
    return True


# -- snapshots ---------------------------------------------------------------------


def create_snapshot(
    context: dict, volume_id, name: str = "", description: str = "", force: bool = False
) -> Snapshot:
    """Cinder's create_snapshot: the volume must be available (or in-use with force);
    quota (snapshots, gigabytes) is reserved and committed with the row, then the
    volume's agent makes the LVM snapshot."""
    volume = get_volume(context, volume_id)
    assert_not_frozen(volume.host)
    if volume.status == "maintenance":
        raise exceptions.InvalidVolume(
            reason="The snapshot cannot be created when the volume is in maintenance mode."
        )
    allowed = ("available", "in-use") if force else ("available",)
    if volume.status not in allowed:
        raise exceptions.InvalidVolume(
            reason=f"Volume {volume.id} status must be available, but current status is: "
            f"{volume.status}."
        )
    if len(name or "") > 255 or len(description or "") > 255:
        raise exceptions.InvalidInput(reason="name and description are at most 255 characters")
    deltas = quota.snapshot_deltas(volume.size, volume.volume_type.name)
    reservations = quota.reserve(volume.project_id, deltas)
    try:
        with transaction.atomic():
            if not Volume.objects.filter(id=volume.id, status__in=allowed).exists():
                raise exceptions.InvalidVolume(
                    reason=f"Volume {volume.id} status must be available."
                )
            snapshot = Snapshot.objects.create(
                volume=volume,
                project_id=volume.project_id,
                user_id=context["user_id"],
                display_name=(name or "").strip(),
                display_description=(description or "").strip(),
                status="creating",
                progress="0%",
                volume_size=volume.size,
                volume_type_id=volume.volume_type_id,
            )
            quota.commit(reservations)
            volume_rpcapi.create_snapshot(context, volume.host, str(snapshot.id))
    except Exception:
        quota.rollback(reservations)
        raise
    events.volume_changed(volume.id, volume.project_id)
    return snapshot


def delete_snapshot(context: dict, snapshot_id, force: bool = False) -> None:
    """Claim the snapshot (``available``/``error`` -> ``deleting``; any status but
    ``deleting`` when forced) and cast to its agent."""
    snapshot = get_snapshot(context, snapshot_id)
    assert_not_frozen(snapshot.volume.host)
    expected = {"status__in": SNAPSHOT_DELETABLE_STATUSES} if not force else {}
    with transaction.atomic():
        if not Snapshot.conditional_update(snapshot.id, expected, status="deleting"):
            raise exceptions.InvalidSnapshot(
                reason="Snapshot status must be available or error and must not be part of a group."
            )
        volume_rpcapi.delete_snapshot(context, snapshot.volume.host, str(snapshot.id))
    events.volume_changed(snapshot.volume_id, snapshot.project_id)
