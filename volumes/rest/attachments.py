"""/attachments (3.27+): Cinder's ``v3/attachments.py`` and its view builder.

Create (with or without a connector), update (a connector), delete, list, detail, show,
and the ``os-complete`` action (3.44); ``mode`` on create from 3.54. Create and update wait
for the backend (RPC calls): a failure there is a 500 with Cinder's words.
"""

import contextlib

from core.cinder import exceptions
from core.cinder.models import VolumeAttachment
from core.kernel import queues
from volumes.lifecycle import attachments
from volumes.rest import builders, listing, schemas
from volumes.rest.faults import Fault
from volumes.rest.routing import Call
from volumes.rest.volumes import get_volume, listing_all_tenants, parse_uuid

NEW_ATTACH, COMPLETION, MODE_ARG = "3.27", "3.44", "3.54"
UUID = {"type": "string", "pattern": schemas.UUID_PATTERN}
SORT_KEYS = {
    "id": "id",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "attach_status": "attach_status",
    "instance_uuid": "instance_uuid",
    "volume_id": "volume_id",
}
FILTERS = {
    "volume_id": "volume_id",
    "instance_id": "instance_uuid",
    "attach_status": "attach_status",
}


def _create_schema(with_mode: bool) -> dict:
    properties = {
        "instance_uuid": UUID,
        "connector": {"type": ["object", "null"]},
        "volume_uuid": UUID,
    }
    if with_mode:
        properties["mode"] = {"type": "string", "enum": ["rw", "ro"]}
    attachment = {
        "type": "object",
        "properties": properties,
        "required": ["volume_uuid"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {"attachment": attachment},
        "required": ["attachment"],
        "additionalProperties": False,
    }


UPDATE = {
    "type": "object",
    "properties": {
        "attachment": {
            "type": "object",
            "properties": {"connector": {"type": "object", "minProperties": 1}},
            "required": ["connector"],
            "additionalProperties": False,
        }
    },
    "required": ["attachment"],
    "additionalProperties": False,
}


# -- views (Cinder's v3/views/attachments.py) ----------------------------------------


def summary(attachment: VolumeAttachment) -> dict:
    return {
        "id": str(attachment.id),
        "status": attachment.attach_status,
        "instance": str(attachment.instance_uuid) if attachment.instance_uuid else None,
        "volume_id": str(attachment.volume_id),
    }


def detail(attachment: VolumeAttachment) -> dict:
    return {
        **summary(attachment),
        "attached_at": builders.isotime(attachment.attach_time) or "",
        "detached_at": builders.isotime(attachment.detach_time) or "",
        "attach_mode": attachment.attach_mode,
        "connection_info": attachment.connection_info or {},
    }


# -- handlers ----------------------------------------------------------------------------


def _since(call: Call, version: str) -> None:
    if not call.version.at_least(version):
        raise Fault(404, "The resource could not be found.")


@contextlib.contextmanager
def backend(what: str):
    """Cinder's answer when the backend fails: 500 "Unable to <what> (<reason>)."; the
    caller's mistakes (Invalid, 400) pass through."""
    try:
        yield
    except exceptions.Invalid:
        raise
    except exceptions.CinderError as error:
        if isinstance(error, exceptions.NotFound | exceptions.ServiceUnavailable):
            raise
        raise Fault(500, f"Unable to {what} ({error}).") from None
    except (queues.RemoteError, queues.CallTimedOut):
        raise Fault(500, f"Unable to {what}.") from None


def _get(call: Call, attachment_id: str) -> VolumeAttachment:
    return attachments.get_attachment(call.caller.context(), attachment_id)


def create(call: Call) -> tuple[int, dict]:
    _since(call, NEW_ATTACH)
    body = call.body()
    with_mode = call.version.at_least(MODE_ARG)
    schemas.validate(_create_schema(with_mode), body)
    request = body["attachment"]
    volume = get_volume(call, request["volume_uuid"])
    with backend("create attachment for volume"):
        attachment = attachments.create(
            call.caller.context(),
            volume,
            request.get("instance_uuid"),
            request.get("connector"),
            request.get("mode", "null") if with_mode else "null",
        )
    return 200, {"attachment": detail(attachment)}


def update(call: Call, attachment_id: str) -> tuple[int, dict]:
    _since(call, NEW_ATTACH)
    attachment = _get(call, attachment_id)
    body = call.body()
    schemas.validate(UPDATE, body)
    with backend("update attachment"):
        attachment = attachments.update(
            call.caller.context(), attachment, body["attachment"]["connector"]
        )
    return 200, {"attachment": detail(attachment)}


def delete(call: Call, attachment_id: str) -> tuple[int, dict]:
    _since(call, NEW_ATTACH)
    attachment = _get(call, attachment_id)
    with backend("delete attachment"):
        left = attachments.delete(call.caller.context(), attachment)
    return 200, {"attachments": [summary(a) for a in left]}


def action(call: Call, attachment_id: str) -> tuple[int, None]:
    """``os-complete`` (3.44), the one action an attachment has."""
    _since(call, NEW_ATTACH)
    body = call.body()
    if list(body) != ["os-complete"] or not call.version.at_least(COMPLETION):
        raise Fault(400, f"There is no such action: {', '.join(body) or 'none'}")
    attachments.complete(call.caller.context(), _get(call, attachment_id))
    return 204, None


def show(call: Call, attachment_id: str) -> tuple[int, dict]:
    _since(call, NEW_ATTACH)
    return 200, {"attachment": detail(_get(call, attachment_id))}


def _list(call: Call, view) -> tuple[int, dict]:
    _since(call, NEW_ATTACH)
    all_tenants = call.caller.is_admin and listing_all_tenants(call)
    queryset = attachments.visible(call.caller.context(), all_tenants=all_tenants)
    bad = []
    for key, value in call.request.GET.items():
        if key in listing.PAGING_KEYS or key == "all_tenants":
            continue
        if key == "status":
            queryset = queryset.none()  # not a column of Cinder's table: it matches nothing
        elif key in ("volume_id", "instance_id") and parse_uuid(value) is None:
            queryset = queryset.none()  # not an id: nothing has it
        elif key in FILTERS:
            queryset = queryset.filter(**{FILTERS[key]: value})
        else:
            bad.append(key)
    if bad and call.version.at_least("3.31"):
        raise Fault(400, f"Invalid filters {', '.join(sorted(bad))} are found in query options.")
    queryset = queryset.order_by(*listing.sort_keys(call, SORT_KEYS))
    path = "attachments/detail" if view is detail else "attachments"
    items, links, count = listing.paginate(call, queryset, path)
    result = {"attachments": [view(a) for a in items]}
    if links:
        result["attachments_links"] = links
    if count is not None:
        result["count"] = count
    return 200, result


def list_summary(call: Call) -> tuple[int, dict]:
    return _list(call, summary)


def list_detail(call: Call) -> tuple[int, dict]:
    return _list(call, detail)
