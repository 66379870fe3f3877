"""Availability zones, scheduler pools (admin), user messages, and the version documents."""

from django.http import HttpRequest, JsonResponse

from core.cinder.models import UserMessage, VolumeType
from core.kernel.models import Service
from scheduler import rpcapi as scheduler_rpcapi
from volumes.rest import builders, microversion, schemas
from volumes.rest.faults import Fault
from volumes.rest.routing import Call
from volumes.rest.volumes import parse_uuid


def availability_zones(call: Call) -> tuple[int, dict]:
    """A zone is available unless all of its volume services are disabled (as Cinder)."""
    disabled: dict[str, bool] = {}
    for zone, off in Service.objects.filter(binary="cinder-volume").values_list(
        "availability_zone", "disabled"
    ):
        disabled[zone] = disabled.get(zone, True) and off
    zones = [
        {"zoneName": zone, "zoneState": {"available": not off}}
        for zone, off in sorted(disabled.items())
    ]
    return 200, {"availabilityZoneInfo": zones}


def pools(call: Call) -> tuple[int, dict]:
    call.require_admin("scheduler_extension:scheduler_stats:get_pools")
    params = call.request.GET
    detail = schemas.truthy(params.get("detail", "false"))
    rows = scheduler_rpcapi.get_pools(call.caller.context())
    if call.version.at_least("3.28"):
        for key, value in params.items():
            if key == "detail" or (key == "volume_type" and call.version.at_least("3.35")):
                continue
            if key == "name":
                rows = [p for p in rows if p["name"] == value]
            else:
                rows = [p for p in rows if str(p["capabilities"].get(key)) == value]
    if "volume_type" in params and call.version.at_least("3.35"):
        rows = _pools_for_type(rows, params["volume_type"])
    body = []
    for pool in rows:
        item = {"name": pool["name"]}
        if detail:
            caps = dict(pool["capabilities"])
            caps.setdefault("timestamp", builders.isotime(pool["reported_at"]))
            item["capabilities"] = caps
        body.append(item)
    return 200, {"pools": body}


def _pools_for_type(rows: list[dict], type_ref: str) -> list[dict]:
    """Pools whose backend name matches the type's ``volume_backend_name`` (if it sets one)."""
    found = parse_uuid(type_ref)
    vtype = VolumeType.objects.filter(name=type_ref).first() or (
        VolumeType.objects.filter(id=found).first() if found else None
    )
    if vtype is None:
        raise Fault(404, f"Volume type {type_ref} could not be found.")
    wanted = vtype.extra_specs_dict().get("volume_backend_name")
    if not wanted:
        return rows
    return [p for p in rows if p["capabilities"].get("volume_backend_name") == wanted]


def _messages(call: Call):
    if not call.version.at_least("3.3"):
        raise Fault(404, "The resource could not be found.")
    return UserMessage.objects.filter(project_id=call.caller.project_id)


def list_messages(call: Call) -> tuple[int, dict]:
    rows = _messages(call)
    resource = call.request.GET.get("resource_uuid")
    if resource:
        found = parse_uuid(resource)
        rows = rows.filter(resource_uuid=found) if found else rows.none()
    return 200, {"messages": [builders.message(call, m) for m in rows[:1000]]}


def _message(call: Call, message_id: str) -> UserMessage:
    found = parse_uuid(message_id)
    row = _messages(call).filter(id=found).first() if found else None
    if row is None:
        raise Fault(404, f"Message {message_id} could not be found.")
    return row


def show_message(call: Call, message_id: str) -> tuple[int, dict]:
    return 200, {"message": builders.message(call, _message(call, message_id))}


def delete_message(call: Call, message_id: str) -> tuple[int, None]:
    _message(call, message_id).delete()
    return 204, None


def base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def versions_response(request: HttpRequest, status: int) -> JsonResponse:
    return JsonResponse(microversion.versions_document(base_url(request)), status=status)


def wants_json(request: HttpRequest) -> bool:
    """API clients ask for JSON (cinderclient, keystoneauth); browsers and tests get HTML."""
    accept = request.headers.get("Accept", "")
    return "json" in accept and "text/html" not in accept
