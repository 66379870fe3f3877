"""Extend (``os-extend``): claim ``extending``, reserve the growth, ask the scheduler.

The scheduler checks that the volume's own pool can hold the growth (Cinder's
``backend_passes_filters`` with ``new_size``), then the agent runs ``lvextend``; the
reservation is committed or rolled back there.
"""

from core.cinder import exceptions, quota
from core.cinder.models import Volume
from core.kernel import events
from scheduler import rpcapi as scheduler_rpcapi
from volumes.lifecycle import operation_context


def extend(context: dict, volume: Volume, new_size: int, attached_allowed: bool = False) -> None:
    """Raises InvalidInput (not larger), InvalidVolume (wrong status) or a QuotaError (413);
    each leaves the volume as it was and nothing reserved."""
    growth = int(new_size) - volume.size
    if growth <= 0:
        raise exceptions.InvalidInput(
            reason="New size for extend must be greater than current size. "
            f"(current: {volume.size}, extended: {new_size})."
        )
    expected = "in-use" if attached_allowed and volume.status == "in-use" else "available"
    claimed = Volume.conditional_update(
        volume.id,
        {"status": expected},
        status="extending",
        previous_status=volume.status,
    )
    if not claimed:
        raise exceptions.InvalidVolume(
            reason=f"Volume {volume.id} status must be '{{'status': '{expected}'}}' to extend, "
            f"currently {volume.status}."
        )
    try:
        quota.limit_check(volume.project_id, per_volume_gigabytes=int(new_size))
        reservations = quota.reserve(
            volume.project_id,
            quota.add_volume_type_opts({"gigabytes": growth}, volume.volume_type.name),
        )
    except Exception:
        Volume.conditional_update(volume.id, {"status": "extending"}, status=volume.status)
        raise
    context = operation_context(context)
    request_spec = {
        "volume_id": str(volume.id),
        "size": volume.size,
        "new_size": int(new_size),
        "host": volume.host,
        "availability_zone": volume.availability_zone,
        "volume_type": {
            "name": volume.volume_type.name,
            "extra_specs": volume.volume_type.extra_specs_dict(),
        },
    }
    scheduler_rpcapi.extend_volume(
        context, str(volume.id), int(new_size), reservations, request_spec
    )
    events.volume_changed(volume.id, volume.project_id)
