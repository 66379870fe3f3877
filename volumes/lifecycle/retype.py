"""Retype (``os-retype``): a volume takes another type, in place or by migrating.

As Cinder's ``volume/api.py``: the new type's quota is reserved and the old type's given
back (per-type resources only: ``volumes_<type>``, ``gigabytes_<type>``, ``snapshots_<type>``,
counting the volume's snapshots), ``retyping`` claimed by compare-and-swap (refused for the
same type, a volume not ``available``/``in-use`` or mid-migration), then the scheduler looks
for a backend for the new type. The reservations are committed when the volume has its new
type, or rolled back.
"""

import uuid

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.cinder import exceptions, quota
from core.cinder.models import Snapshot, Volume, VolumeType
from core.kernel import events
from scheduler import rpcapi as scheduler_rpcapi
from volumes.lifecycle import operation_context

POLICIES = ("never", "on-demand")
# Cinder's AVAILABLE_MIGRATION_STATUS (None is '' here).
MIGRATION_DONE = ("", "deleting", "error", "success")
REFUSED = (
    "Retype needs volume to be in available or in-use state, not be part of an active "
    "migration or a consistency group, requested type has to be different that the one "
    "from the volume, and for in-use volumes front-end qos specs cannot change."
)


def movable(volume_id):
    """Cinder's expectations before a retype or a migration: ``available`` or ``in-use`` and
    not mid-migration."""
    return Volume.objects.filter(
        id=volume_id, status__in=("available", "in-use"), migration_status__in=MIGRATION_DONE
    )


def find_type(context: dict, ref: str) -> VolumeType:
    """The new type by name or id, among those the caller may use."""
    usable = VolumeType.usable_by(context["project_id"], context.get("is_admin", False))
    found = usable.filter(name=ref).first()
    if found is None:
        try:
            found = usable.filter(id=uuid.UUID(str(ref))).first()
        except ValueError:
            found = None
    if found is None:
        raise exceptions.InvalidInput(reason=f"Invalid volume_type passed: {ref}.")
    return found


def is_multiattach(vtype: VolumeType) -> bool:
    return vtype.extra_specs_dict().get("multiattach", "").replace(" ", "").lower() == "<is>true"


def type_reservation(volume: Volume, vtype: VolumeType, sign: int) -> list[str]:
    """Cinder's ``get_volume_type_reservation(reserve_vol_type_only=True)``: the type's own
    resources for the volume and its snapshots (``sign`` -1 gives them back)."""
    snapshots = list(
        Snapshot.objects.filter(volume_id=volume.id).values_list("volume_size", flat=True)
    )
    deltas = {"volumes": 1, "gigabytes": volume.size + sum(snapshots)}
    if snapshots:
        deltas["snapshots"] = len(snapshots)
    per_type = quota.add_volume_type_opts(deltas, vtype.name)
    return quota.reserve(
        volume.project_id, {k: sign * v for k, v in per_type.items() if k not in deltas}
    )


def retype(context: dict, volume: Volume, new_type_ref: str, migration_policy: str | None) -> None:
    """Raises InvalidInput (unknown type, multiattach change while not available), a
    QuotaError (413) or InvalidVolume (400, e.g. the same type); each leaves nothing
    reserved and the volume as it was."""
    new_type = find_type(context, new_type_ref)
    target_multiattach = is_multiattach(new_type)
    if volume.multiattach != target_multiattach and volume.status != "available":
        raise exceptions.InvalidInput(
            reason="Invalid volume_type passed, retypes affecting multiattach are only allowed "
            f"on available volumes, the specified volume however currently has a status of: "
            f"{volume.status}."
        )
    reservations = type_reservation(volume, new_type, 1)
    try:
        old_reservations = type_reservation(volume, volume.volume_type, -1)
    except Exception:
        quota.rollback(reservations)
        raise
    try:
        with transaction.atomic():
            claimed = (
                movable(volume.id)
                .exclude(volume_type_id=new_type.id)
                .update(
                    status="retyping",
                    previous_status=F("status"),
                    multiattach=target_multiattach,
                    updated_at=timezone.now(),
                )
            )
            if not claimed:
                raise exceptions.InvalidVolume(reason=REFUSED)
            spec = request_spec(volume, new_type, migration_policy, reservations, old_reservations)
            scheduler_rpcapi.retype(operation_context(context), str(volume.id), spec)
    except Exception:
        quota.rollback(reservations + old_reservations)
        raise
    events.volume_changed(volume.id, volume.project_id)


def request_spec(volume, new_type, migration_policy, reservations, old_reservations) -> dict:
    """What the scheduler needs: the new type, the reservations, the zones (the new type's
    ``RESKEY:availability_zones``, else the volume's own)."""
    specs = new_type.extra_specs_dict()
    zones = [z.strip() for z in specs.get("RESKEY:availability_zones", "").split(",") if z.strip()]
    return {
        "volume_id": str(volume.id),
        "size": volume.size,
        "host": volume.host,
        "volume_type": {"id": str(new_type.id), "name": new_type.name, "extra_specs": specs},
        "migration_policy": migration_policy,
        "quota_reservations": reservations,
        "old_reservations": old_reservations,
        "availability_zones": zones or [volume.availability_zone],
    }
