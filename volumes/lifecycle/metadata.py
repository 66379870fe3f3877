"""Volume and snapshot metadata (Cinder's ``*_metadata_update`` and ``*_metadata_delete``).

Each change reads the row under a lock and writes the whole dict back in one transaction,
so two clients changing different keys at once both keep their key.
"""

from django.db import transaction

from core.cinder import exceptions
from core.cinder.models import Snapshot, Volume

MAX_ITEMS = 128  # as the REST schema's limit: the total after a merge counts too


def _locked(resource):
    return type(resource).objects.select_for_update().get(id=resource.id)


def _check_usable(resource) -> None:
    if isinstance(resource, Volume) and resource.status == "maintenance":
        raise exceptions.InvalidVolume(
            reason="The volume metadata cannot be updated when the volume is in maintenance mode."
        )


def update(resource, changes: dict, replace: bool = False) -> dict:
    """Merge ``changes`` into the metadata (or replace it all); returns the new metadata."""
    _check_usable(resource)
    with transaction.atomic():
        row = _locked(resource)
        metadata = {} if replace else dict(row.metadata or {})
        metadata.update(changes)
        if len(metadata) > MAX_ITEMS:
            raise exceptions.InvalidInput(
                reason=f"at most {MAX_ITEMS} metadata items (this would make {len(metadata)})"
            )
        type(row).objects.filter(id=row.id).update(metadata=metadata)
    return metadata


def delete(resource, key: str) -> None:
    _check_usable(resource)
    with transaction.atomic():
        row = _locked(resource)
        metadata = dict(row.metadata or {})
        if key not in metadata:
            raise not_found(resource, key)
        del metadata[key]
        type(row).objects.filter(id=row.id).update(metadata=metadata)


def not_found(resource, key: str) -> exceptions.NotFound:
    if isinstance(resource, Snapshot):
        return exceptions.SnapshotMetadataNotFound(snapshot_id=resource.id, metadata_key=key)
    return exceptions.VolumeMetadataNotFound(volume_id=resource.id, metadata_key=key)
