"""Migrate (admin ``os-migrate_volume``): move a volume to another backend.

As Cinder's ``volume/api.py``: the destination's volume service must be up and enabled
(400 otherwise); ``migration_status`` ``starting`` is claimed by compare-and-swap for an
``available`` or ``in-use`` volume that is not migrating, has no snapshots and is not on
that host already (400 otherwise); ``lock_volume`` puts an available volume in
``maintenance``. The scheduler then checks the destination can take it.
"""

from django.db import transaction
from django.db.models import Case, Exists, F, OuterRef, Value, When
from django.utils import timezone

from core.cinder import exceptions
from core.cinder.models import Snapshot, Volume
from core.kernel import events
from core.kernel.hosts import extract_host
from core.kernel.models import Service
from scheduler import rpcapi as scheduler_rpcapi
from volumes.lifecycle import operation_context
from volumes.lifecycle.retype import movable

REFUSED = (
    "Volume {} status must be available or in-use, must not be migrating, have snapshots, "
    "be replicated, be part of a group and destination host/cluster must be different than "
    "the current one"
)


def migrate(
    context: dict,
    volume: Volume,
    host: str | None,
    cluster: str | None = None,
    force_host_copy: bool = False,
    lock_volume: bool = False,
) -> None:
    """Raises InvalidHost (no such service up, or a cluster: Cinderlab has none) or
    InvalidVolume (the claim refused); either leaves the volume as it was."""
    service = None
    if host and not cluster:
        service = Service.objects.filter(
            binary="cinder-volume", host=extract_host(host), disabled=False
        ).first()
    if service is None or not service.is_up():
        raise exceptions.InvalidHost(reason=f"No available service named '{cluster or host}'")
    snapshots = Snapshot.objects.filter(volume_id=OuterRef("pk"))
    updates = {"migration_status": "starting", "previous_status": F("status")}
    if lock_volume:
        updates["status"] = Case(
            When(status="available", then=Value("maintenance")), default=F("status")
        )
    with transaction.atomic():
        claimed = (
            movable(volume.id)
            .exclude(host=host)
            .filter(~Exists(snapshots))
            .update(**updates, updated_at=timezone.now())
        )
        if not claimed:
            raise exceptions.InvalidVolume(reason=REFUSED.format(volume.id))
        volume.refresh_from_db()
        request_spec = {
            "volume_id": str(volume.id),
            "size": volume.size,
            "host": volume.host,
            "volume_type": {
                "id": str(volume.volume_type_id),
                "name": volume.volume_type.name,
                "extra_specs": volume.volume_type.extra_specs_dict(),
            },
        }
        scheduler_rpcapi.migrate_volume(
            operation_context(context), str(volume.id), host, force_host_copy, request_spec
        )
    events.volume_changed(volume.id, volume.project_id)
