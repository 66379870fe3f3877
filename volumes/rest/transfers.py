"""/os-volume-transfer (every version) and /volume-transfers (Cinder's v3 controller:
``no_snapshots`` from 3.55, paging from 3.59). Bodies from cinder/api/views/transfers.py:
``no_snapshots`` from 3.55, the history fields from 3.57."""

from volumes import transfer
from volumes.rest import builders, listing, schemas
from volumes.rest.routing import Call
from volumes.rest.volumes import get_volume

COLLECTION = "os-volume-transfer"
SORT_KEYS = {"id": "id", "name": "display_name", "created_at": "created_at"}
NAME = {"type": ["string", "null"], "maxLength": 255}


def _create_schema(with_snapshots_flag: bool) -> dict:
    properties = {"volume_id": {"type": "string", "pattern": schemas.UUID_PATTERN}, "name": NAME}
    if with_snapshots_flag:
        properties["no_snapshots"] = schemas.boolean_ish
    return {
        "type": "object",
        "properties": {
            "transfer": {
                "type": "object",
                "properties": properties,
                "required": ["volume_id"],
                "additionalProperties": False,
            }
        },
        "required": ["transfer"],
        "additionalProperties": False,
    }


ACCEPT = {
    "type": "object",
    "properties": {
        "accept": {
            "type": "object",
            "properties": {"auth_key": {"type": ["string", "integer"]}},
            "required": ["auth_key"],
            "additionalProperties": False,
        }
    },
    "required": ["accept"],
    "additionalProperties": False,
}


def summary(call: Call, offer) -> dict:
    return {
        "id": str(offer.id),
        "volume_id": str(offer.volume_id),
        "name": offer.display_name,
        "links": builders.links(call, COLLECTION, offer.id),
    }


def detail(call: Call, offer, auth_key: str | None = None) -> dict:
    body = {
        "id": str(offer.id),
        "created_at": builders.isotime(offer.created_at),
        "name": offer.display_name,
        "volume_id": str(offer.volume_id),
    }
    if auth_key is not None:
        body["auth_key"] = auth_key
    body["links"] = builders.links(call, COLLECTION, offer.id)
    if call.version.at_least("3.55"):
        body["no_snapshots"] = offer.no_snapshots
    if call.version.at_least("3.57"):
        body["destination_project_id"] = offer.destination_project_id
        body["source_project_id"] = offer.source_project_id
        body["accepted"] = offer.accepted
    return body


def _list(call: Call, path: str, is_detail: bool, v3: bool) -> tuple[int, dict]:
    context = call.caller.context()
    params = call.request.GET
    offers = transfer.visible(context)
    if call.caller.is_admin and schemas.truthy(params.get("all_tenants", "false")):
        offers = transfer.live().select_related("volume")
    elif call.caller.is_admin:
        offers = offers.filter(volume__project_id=call.caller.project_id)
    if "name" in params:
        offers = offers.filter(display_name=params["name"])
    if v3 and call.version.at_least("3.59"):
        offers = offers.order_by(*listing.sort_keys(call, SORT_KEYS))
    else:
        offers = offers.order_by("created_at", "id")
    items, links, _ = listing.paginate(call, offers, path)
    view = detail if is_detail else summary
    body = {"transfers": [view(call, o) for o in items]}
    if links:
        body["transfers_links"] = links
    return 200, body


def _create(call: Call, v3: bool) -> tuple[int, dict]:
    body = call.body()
    schemas.validate(_create_schema(v3 and call.version.at_least("3.55")), body)
    request = body["transfer"]
    volume = get_volume(call, request["volume_id"])
    name = request.get("name")
    offer, auth_key = transfer.create(
        call.caller.context(),
        volume,
        name.strip() if name is not None else None,
        no_snapshots=schemas.truthy(request.get("no_snapshots", False)),
    )
    return 202, {"transfer": detail(call, offer, auth_key)}


def show(call: Call, transfer_id: str) -> tuple[int, dict]:
    offer = transfer.get(call.caller.context(), transfer_id)
    return 200, {"transfer": detail(call, offer)}


def delete(call: Call, transfer_id: str) -> tuple[int, None]:
    transfer.delete(call.caller.context(), transfer_id)
    return 202, None


def accept(call: Call, transfer_id: str) -> tuple[int, dict]:
    body = call.body()
    schemas.validate(ACCEPT, body)
    offer = transfer.accept(call.caller.context(), transfer_id, body["accept"]["auth_key"])
    return 202, {"transfer": summary(call, offer)}


# The two routes: the old extension and the v3 resource.
def list_old(call: Call) -> tuple[int, dict]:
    return _list(call, COLLECTION, is_detail=False, v3=False)


def detail_old(call: Call) -> tuple[int, dict]:
    return _list(call, f"{COLLECTION}/detail", is_detail=True, v3=False)


def create_old(call: Call) -> tuple[int, dict]:
    return _create(call, v3=False)


def list_v3(call: Call) -> tuple[int, dict]:
    return _list(call, "volume-transfers", is_detail=False, v3=True)


def detail_v3(call: Call) -> tuple[int, dict]:
    return _list(call, "volume-transfers/detail", is_detail=True, v3=True)


def create_v3(call: Call) -> tuple[int, dict]:
    return _create(call, v3=True)
