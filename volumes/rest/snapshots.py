"""/snapshots: create, list, detail, show, delete (through volumes.api, as the form would)."""

from django.db.models import QuerySet

from core.cinder.models import Snapshot
from volumes import api
from volumes.rest import builders, listing, schemas
from volumes.rest.faults import Fault
from volumes.rest.routing import Call
from volumes.rest.volumes import get_snapshot, get_volume, listing_all_tenants, parse_uuid

SORT_KEYS = {
    "id": "id",
    "name": "display_name",
    "display_name": "display_name",
    "status": "status",
    "size": "volume_size",
    "created_at": "created_at",
    "updated_at": "updated_at",
}
FILTERS = {"name": "display_name", "status": "status", "volume_id": "volume_id"}


def visible(call: Call) -> QuerySet:
    snaps = Snapshot.objects.all()
    if call.caller.is_admin and listing_all_tenants(call):
        return snaps
    return snaps.filter(project_id=call.caller.project_id)


def _list(call: Call, detail: bool) -> tuple[int, dict]:
    queryset = visible(call)
    bad = []
    for key, value in call.request.GET.items():
        if key in listing.PAGING_KEYS or key == "all_tenants":
            continue
        if key == "metadata":
            queryset = listing.apply_metadata(queryset, listing.metadata_filter(value))
        elif key in FILTERS:
            if key == "volume_id" and parse_uuid(value) is None:
                queryset = queryset.none()
            else:
                queryset = queryset.filter(**{FILTERS[key]: value})
        else:
            bad.append(key)
    if bad and call.version.at_least("3.31"):
        raise Fault(400, f"Invalid filters {', '.join(sorted(bad))} are found in query options.")
    queryset = queryset.order_by(*listing.sort_keys(call, SORT_KEYS))
    path = "snapshots/detail" if detail else "snapshots"
    items, links, count = listing.paginate(call, queryset, path)
    view = "extended" if detail else "summary"
    body = {"snapshots": [builders.snapshot(call, s, view) for s in items]}
    if links:
        body["snapshots_links"] = links
    if count is not None:
        body["count"] = count
    return 200, body


def list_summary(call: Call) -> tuple[int, dict]:
    return _list(call, detail=False)


def list_detail(call: Call) -> tuple[int, dict]:
    return _list(call, detail=True)


def show(call: Call, snapshot_id: str) -> tuple[int, dict]:
    return 200, {"snapshot": builders.snapshot(call, get_snapshot(call, snapshot_id), "extended")}


SNAPSHOT_IN_USE_FLAG_MSG = (
    "Since microversion 3.66 the 'force' flag is invalid for this request.  For backward "
    "compatability, however, when the 'force' flag is passed with a value evaluating to "
    "True, it is silently ignored."
)


def create(call: Call) -> tuple[int, dict]:
    body = call.body()
    schemas.validate(schemas.snapshot_create, body)
    request = body["snapshot"]
    volume = get_volume(call, request["volume_id"])
    force = schemas.truthy(request.get("force"))
    if call.version.at_least("3.66"):
        # An in-use volume needs no force from 3.66; an explicit false is refused.
        if request.get("force") is not None and not force:
            raise Fault(400, SNAPSHOT_IN_USE_FLAG_MSG)
        force = True
    snap = api.create_snapshot(
        call.caller.context(),
        str(volume.id),
        name=schemas.stripped_name(request.get("name", request.get("display_name")), "name"),
        description=schemas.stripped_name(
            request.get("description", request.get("display_description")), "description"
        ),
        force=force,
    )
    if request.get("metadata"):
        Snapshot.objects.filter(id=snap.id).update(metadata=request["metadata"])
    return 202, {"snapshot": builders.snapshot(call, Snapshot.objects.get(id=snap.id))}


def update(call: Call, snapshot_id: str) -> tuple[int, dict]:
    """Name and description (either spelling); the answer is the detail view."""
    snap = get_snapshot(call, snapshot_id)
    body = call.body()
    schemas.validate(schemas.snapshot_update, body)
    request = body["snapshot"]
    values = {}
    for field, keys in (
        ("display_name", ("name", "display_name")),
        ("display_description", ("description", "display_description")),
    ):
        given = [k for k in keys if k in request]
        if given:
            values[field] = schemas.stripped_name(request[given[0]], keys[0])
    Snapshot.conditional_update(snap.id, {}, **values)
    return 200, {"snapshot": builders.snapshot(call, Snapshot.objects.get(id=snap.id))}


def delete(call: Call, snapshot_id: str) -> tuple[int, None]:
    snap = get_snapshot(call, snapshot_id)
    api.delete_snapshot(call.caller.context(), str(snap.id))
    return 202, None
