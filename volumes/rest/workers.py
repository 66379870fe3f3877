"""POST /workers/cleanup (3.24, admins): Cinder's work cleanup, which ``cinder work-cleanup``
drives.

The request picks services (by id, host, binary, whether they are up or disabled) and
optionally one resource. A service that is up is asked to end the work of its own dead
workers (a cast to it); a service that is down has its work ended here, as the sweep
would once ``service_down_time`` has passed: creates become ``error``, deletes
``error_deleting``, the scheduler's work is scheduled again. Cinder can only hand a down
service's work to another node of its cluster, and lists it as ``unavailable`` when there
is none; Cinderlab ends the statuses itself, so it lists such a service under ``cleaning``.
"""

from django.utils import timezone

from agent import rpcapi as volume_rpcapi
from core.cinder import cleanable
from core.cinder.models import Worker
from core.kernel.models import Service
from core.kernel.numbers import ascii_int
from volumes.rest import schemas
from volumes.rest.faults import Fault
from volumes.rest.routing import Call

BOOLEAN = {"type": ["boolean", "string"]}
CLEANUP_SCHEMA = {
    "type": "object",
    "properties": {
        "cluster_name": {"type": ["string", "null"], "maxLength": 255},
        "disabled": BOOLEAN,
        "host": {"type": ["string", "null"], "maxLength": 255},
        "is_up": BOOLEAN,
        "binary": {"enum": ["cinder-volume", "cinder-scheduler"]},
        "resource_id": {"type": ["string", "null"], "pattern": schemas.UUID_PATTERN},
        "resource_type": {"type": ["string", "null"], "maxLength": 16},
        "service_id": {"type": ["integer", "string"]},
    },
    "additionalProperties": False,
}
RESOURCE_TYPES = {"Volume": "VOLUME", "Snapshot": "SNAPSHOT"}


def cleanup(call: Call) -> tuple[int, dict]:
    if not call.version.at_least("3.24"):
        raise Fault(404, "The resource could not be found.")
    call.require_admin("workers:cleanup")
    body = call.body() if call.request.body else {}
    schemas.validate(CLEANUP_SCHEMA, body)
    until = timezone.now()
    rows = Worker.objects.filter(updated_at__lte=until)
    resource_type = body.get("resource_type")
    if resource_type:
        if resource_type.title() not in RESOURCE_TYPES:
            raise Fault(
                400,
                f"Invalid input received: Resource type {resource_type.title()} not valid, "
                "must be Volume or Snapshot",
            )
        rows = rows.filter(resource_type=RESOURCE_TYPES[resource_type.title()])
    if body.get("resource_id"):
        rows = rows.filter(resource_id=body["resource_id"])
    cleaning = []
    for service in _services(body):
        alive = service.is_alive(until)
        mine = rows.filter(service=_work_of(service))
        if alive and service.binary == "cinder-volume":
            volume_rpcapi.do_cleanup(call.caller.context(), service.host)
        elif not alive:
            cleanable.clean_all(mine, f"its service {service.host} is down; cleanup was asked for")
        cleaning.append(_view(service))
    return 202, {"cleaning": cleaning, "unavailable": []}


def _services(body: dict) -> list[Service]:
    """The services the request names; as Cinder's CleanupRequest, down ones by default."""
    services = Service.objects.all()
    if body.get("cluster_name"):
        return []  # no clusters here
    if body.get("service_id") is not None:
        service_id = ascii_int(str(body["service_id"]))
        if service_id is None:
            raise Fault(400, "Invalid input received: service_id must be an integer")
        services = services.filter(id=service_id)
    if body.get("host"):
        services = services.filter(host=body["host"])
    if body.get("binary"):
        services = services.filter(binary=body["binary"])
    if body.get("disabled") is not None:
        services = services.filter(disabled=_boolean(body["disabled"], "disabled"))
    now = timezone.now()
    is_up = _boolean(body.get("is_up", False), "is_up")
    return [s for s in services if s.is_alive(now) == is_up]


def _work_of(service: Service) -> str:
    return cleanable.SCHEDULER if service.binary == "cinder-scheduler" else service.host


def _boolean(value, name: str) -> bool:
    if isinstance(value, bool):
        return value
    lowered = str(value).lower()
    if lowered in schemas.TRUE_STRINGS:
        return True
    if lowered in {"false", "0", "no", "n", "off", "f"}:
        return False
    raise Fault(400, f"Invalid input received: {name} must be a boolean")


def _view(service: Service) -> dict:
    return {"id": service.id, "host": service.host, "binary": service.binary, "cluster_name": None}
