"""/volumes: create (every source), list, detail, show, update, delete, summary."""

import uuid

from django.db.models import QuerySet, Sum

from core.cinder import exceptions
from core.cinder.models import Snapshot, Volume
from core.kernel.numbers import ascii_int
from volumes import api
from volumes.rest import builders, listing, schemas
from volumes.rest.faults import Fault
from volumes.rest.routing import Call

SORT_KEYS = {
    "id": "id",
    "name": "display_name",
    "display_name": "display_name",
    "status": "status",
    "size": "size",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "availability_zone": "availability_zone",
    "bootable": "bootable",
    "volume_type": "volume_type__name",
}
# etc/cinder/resource_filters.json's volume filters (plus LIKE forms from 3.34).
USER_FILTERS = {
    "name",
    "status",
    "metadata",
    "bootable",
    "migration_status",
    "availability_zone",
    "group_id",
    "size",
    "created_at",
    "updated_at",
    "consumes_quota",
}
ADMIN_FILTERS = {"project_id", "host", "volume_type", "user_id"}
MULTIATTACH_REMOVED = (
    "multiattach parameter has been removed. The default behavior is to use multiattach "
    "enabled volume types. Contact your administrator to create a multiattach enabled "
    "volume type and use it to create multiattach volumes."
)


def parse_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


def visible_volumes(call: Call) -> QuerySet:
    volumes = Volume.objects.select_related("volume_type").prefetch_related("attachments")
    return volumes if call.caller.is_admin else volumes.filter(project_id=call.caller.project_id)


def get_volume(call: Call, volume_id: str) -> Volume:
    """The volume if the caller may see it; 404 otherwise (malformed ids included)."""
    found = parse_uuid(volume_id)
    volume = visible_volumes(call).filter(id=found).first() if found else None
    if volume is None:
        raise exceptions.VolumeNotFound(volume_id=volume_id)
    return volume


def _filtered(call: Call) -> QuerySet:
    params = call.request.GET
    queryset = visible_volumes(call)
    if not (call.caller.is_admin and listing_all_tenants(call)):
        queryset = queryset.filter(project_id=call.caller.project_id)
    if not call.caller.is_admin:  # Cinder's no_migration_targets: a move's temporary volume
        queryset = queryset.exclude(migration_status__startswith="target:")
    strict = call.version.at_least("3.31")
    allowed = USER_FILTERS | (ADMIN_FILTERS if call.caller.is_admin else set())
    bad = []
    for key, value in params.items():
        if key in listing.PAGING_KEYS or key == "all_tenants":
            continue
        like = key.endswith("~") and call.version.at_least("3.34")
        field = key[:-1] if like else key
        if field not in allowed:
            bad.append(key)
            continue
        queryset = _apply_filter(call, queryset, field, value, like)
    if bad and strict:
        raise Fault(400, f"Invalid filters {', '.join(sorted(bad))} are found in query options.")
    return queryset.order_by(*listing.sort_keys(call, SORT_KEYS))


def listing_all_tenants(call: Call) -> bool:
    return schemas.truthy(call.request.GET.get("all_tenants", "0"))


def _apply_filter(call: Call, queryset: QuerySet, field: str, value: str, like: bool):
    if field == "metadata":
        return listing.apply_metadata(queryset, listing.metadata_filter(value))
    if field in ("created_at", "updated_at"):
        if call.version.at_least("3.60"):
            return queryset.filter(listing.time_filter(field, value))
        return queryset.filter(listing.time_filter(field, value.partition(",")[0]))
    if field in ("group_id", "migration_status"):
        return queryset.none()  # no groups, no migrations here
    if field == "bootable":
        return queryset.filter(bootable=schemas.truthy(value))
    if field == "consumes_quota":
        return queryset.filter(use_quota=schemas.truthy(value))
    if field == "size":
        size = ascii_int(value)
        return queryset.filter(size=size) if size is not None else queryset.none()
    column = {
        "name": "display_name",
        "status": "status",
        "availability_zone": "availability_zone",
        "project_id": "project_id",
        "host": "host",
        "user_id": "user_id",
        "volume_type": "volume_type__name",
    }[field]
    if field == "user_id" and ascii_int(value) is None:
        return queryset.none()
    lookup = f"{column}__icontains" if like else column
    return queryset.filter(**{lookup: value})


def list_summary(call: Call) -> tuple[int, dict]:
    return _list(call, detail=False)


def list_detail(call: Call) -> tuple[int, dict]:
    return _list(call, detail=True)


def _list(call: Call, detail: bool) -> tuple[int, dict]:
    path = "volumes/detail" if detail else "volumes"
    volumes = _filtered(call)
    if not detail:  # a summary shows the id and name: nothing else read, nothing joined
        volumes = volumes.select_related(None).prefetch_related(None).only("id", "display_name")
    items, links, count = listing.paginate(call, volumes, path)
    view = builders.volume_detail if detail else builders.volume_summary
    body = {"volumes": [view(call, v) for v in items]}
    if links:
        body["volumes_links"] = links
    if count is not None:
        body["count"] = count
    return 200, body


def summary(call: Call) -> tuple[int, dict]:
    if not call.version.at_least("3.12"):
        raise Fault(404, "The resource could not be found.")
    volumes = _filtered(call).order_by()
    totals = volumes.aggregate(size=Sum("size"))
    body = {"total_count": volumes.count(), "total_size": totals["size"] or 0}
    if call.version.at_least("3.36"):
        keys: dict[str, set] = {}
        for metadata in volumes.values_list("metadata", flat=True):
            for key, value in (metadata or {}).items():
                keys.setdefault(key, set()).add(value)
        body["metadata"] = {k: sorted(v) for k, v in keys.items()}
    return 200, {"volume-summary": body}


def show(call: Call, volume_id: str) -> tuple[int, dict]:
    return 200, {"volume": builders.volume_detail(call, get_volume(call, volume_id))}


def create(call: Call) -> tuple[int, dict]:
    body = call.body()
    schemas.validate(schemas.volume_create(call.version), body)
    request = body["volume"]
    if schemas.truthy(request.get("multiattach")):
        raise Fault(400, MULTIATTACH_REMOVED)
    kwargs = {
        "size": schemas.int_size(request.get("size")),
        "name": schemas.stripped_name(request.get("name", request.get("display_name")), "name"),
        "description": schemas.stripped_name(
            request.get("description", request.get("display_description")), "description"
        ),
        "volume_type": request.get("volume_type") or None,
        "availability_zone": request.get("availability_zone") or None,
        "metadata": request.get("metadata") or {},
        "scheduler_hints": body.get("OS-SCH-HNT:scheduler_hints") or {},
    }
    _check_unsupported_sources(request)
    kwargs.update(_sources(call, request, kwargs["size"]))
    volume = api.create(call.caller.context(), **kwargs)
    return 202, {"volume": builders.volume_detail(call, volume, extensions=False)}


def _check_unsupported_sources(request: dict) -> None:
    """Resources this server has none of: their ids can only be unknown (404)."""
    given = [k for k in ("snapshot_id", "source_volid", "backup_id") if request.get(k)]
    if request.get("imageRef") or request.get("image_id"):
        given.append("imageRef")
    if len(given) > 1:
        raise exceptions.InvalidInput(
            reason="May specify only one of snapshot_id, imageRef, source_volid, backup_id"
        )
    if request.get("consistencygroup_id"):
        raise Fault(404, f"ConsistencyGroup {request['consistencygroup_id']} could not be found.")
    if request.get("group_id"):
        raise Fault(404, f"Group {request['group_id']} could not be found.")
    if request.get("backup_id"):
        raise Fault(404, f"Backup {request['backup_id']} could not be found.")


def _sources(call: Call, request: dict, size: int | None) -> dict:
    """snapshot_id / source_volid / imageRef: visible to the caller, usable, size rules."""
    if request.get("snapshot_id"):
        snap = get_snapshot(call, request["snapshot_id"])
        if snap.status != "available":
            raise exceptions.InvalidSnapshot(
                reason="Originating snapshot status must be one of 'available' values"
            )
        _check_source_size(size, snap.volume_size, "snapshot")
        return {"snapshot_id": str(snap.id), "size": size or snap.volume_size}
    if request.get("source_volid"):
        source = get_volume(call, request["source_volid"])
        if source.status not in ("available", "in-use"):
            raise exceptions.InvalidVolume(
                reason="Originating volume status must be one of 'available', 'in-use' values"
            )
        _check_source_size(size, source.size, "original volume")
        return {"source_volid": str(source.id), "size": size or source.size}
    image = request.get("imageRef") or request.get("image_id")
    if image:
        return {"image_id": image}
    return {}


def get_snapshot(call: Call, snapshot_id: str) -> Snapshot:
    """A snapshot the caller may see (any, for admins), or SnapshotNotFound."""
    found = parse_uuid(snapshot_id)
    snaps = Snapshot.objects.all()
    if not call.caller.is_admin:
        snaps = snaps.filter(project_id=call.caller.project_id)
    snap = snaps.filter(id=found).first() if found else None
    if snap is None:
        raise exceptions.SnapshotNotFound(snapshot_id=snapshot_id)
    return snap


def _check_source_size(size: int | None, source_size: int, what: str) -> None:
    if size is not None and size < source_size:
        raise exceptions.InvalidInput(
            reason=f"Volume size '{size}'GB cannot be smaller than the {what} size "
            f"{source_size}GB. They must be >= {what} size."
        )


def update(call: Call, volume_id: str) -> tuple[int, dict]:
    volume = get_volume(call, volume_id)
    body = call.body()
    schemas.validate(schemas.volume_update(call.version), body)
    request = body["volume"]
    values = {}
    if "name" in request or "display_name" in request:
        raw = request.get("name", request.get("display_name"))
        values["display_name"] = schemas.stripped_name(raw, "name")
    if "description" in request or "display_description" in request:
        raw = request.get("description", request.get("display_description"))
        values["display_description"] = schemas.stripped_name(raw, "description")
    if "metadata" in request:
        values["metadata"] = request["metadata"] or {}
    if volume.status == "maintenance":
        raise exceptions.InvalidVolume(reason="The volume cannot be updated during maintenance.")
    if values:
        Volume.conditional_update(volume.id, {}, **values)
    return 200, {"volume": builders.volume_detail(call, get_volume(call, volume_id))}


def delete(call: Call, volume_id: str) -> tuple[int, None]:
    volume = get_volume(call, volume_id)
    params = call.request.GET
    cascade = _bool_param(params, "cascade")
    force = _bool_param(params, "force")
    if force:
        if not call.version.at_least("3.23"):
            raise Fault(400, "Invalid input received: force is supported from 3.23.")
        call.require_admin("volume_extension:volume_admin_actions:force_delete")
    delete_volume = getattr(api, "delete", None)
    if delete_volume is None:
        raise Fault(501, "Deleting volumes is not available yet.")
    delete_volume(call.caller.context(), str(volume.id), cascade=cascade, force=force)
    return 202, None


def _bool_param(params, name: str) -> bool:
    raw = params.get(name)
    if raw is None:
        return False
    lowered = raw.lower()
    if lowered in schemas.TRUE_STRINGS:
        return True
    if lowered in {"false", "0", "no", "n", "off", "f"}:
        return False
    raise exceptions.InvalidInput(reason=f"Invalid value '{raw}' for {name}")
