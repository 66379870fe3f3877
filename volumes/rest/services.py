"""/os-services, /os-hosts and /capabilities/{host}: the services table, read and changed
by admins (cinder/api/v3/services.py, cinder/api/contrib/hosts.py and capabilities.py).

Cinder's get_capabilities is an RPC call to the volume service, answered from the stats
its driver last gathered; here the answer is the backend's last capability report, as
the scheduler keeps it (scheduler.rpcapi.get_pools).
"""

from django.db import transaction
from django.db.models import Count, Sum

from core.cinder import exceptions
from core.cinder.models import Snapshot, Volume
from core.kernel.hosts import extract_host, host_filter
from core.kernel.models import Service
from scheduler import rpcapi as scheduler_rpcapi
from volumes.rest import builders, schemas
from volumes.rest.faults import Fault
from volumes.rest.routing import Call

VOLUME = "cinder-volume"
HOST = {"type": "string", "minLength": 1, "maxLength": 255}
ENABLE_DISABLE = {
    "type": "object",
    "properties": {
        "binary": HOST,
        "host": HOST,
        "cluster": {"type": ["string", "null"]},
        "service": HOST,
    },
    "anyOf": [{"required": ["binary"]}, {"required": ["service"]}],
    "additionalProperties": False,
}
DISABLE_LOG_REASON = {
    **ENABLE_DISABLE,
    "properties": {
        **ENABLE_DISABLE["properties"],
        "disabled_reason": {"type": "string", "minLength": 1, "maxLength": 255},
    },
}
FREEZE_THAW = {
    "type": "object",
    "properties": {"cluster": {"type": ["string", "null"]}, "host": HOST},
    "additionalProperties": False,
}


def _backend_states(call: Call) -> dict[str, str]:
    """3.49: each backend's ``backend_state`` from its pools' reports (``up`` by default)."""
    states = {}
    for pool in scheduler_rpcapi.get_pools(call.caller.context()):
        backend = extract_host(pool["name"], "backend")
        states[backend] = pool["capabilities"].get("backend_state", "up")
    return states


def list_services(call: Call) -> tuple[int, dict]:
    call.require_admin("volume_extension:services:index")
    services = Service.objects.all()
    params = call.request.GET
    if "host" in params:
        services = services.filter(host_filter("host", params["host"]))
    if "binary" in params:
        services = services.filter(binary=params["binary"])
    states = _backend_states(call) if call.version.at_least("3.49") else {}
    return 200, {"services": [_service(call, s, states) for s in services]}


def _service(call: Call, service: Service, states: dict) -> dict:
    updated = service.heartbeat_at or service.created_at
    body = {
        "binary": service.binary,
        "host": service.host,
        "zone": service.availability_zone,
        "status": "disabled" if service.disabled else "enabled",
        "state": "up" if service.is_up() else "down",
        "updated_at": builders.isotime(updated),
    }
    if call.version.at_least("3.49") and service.binary == VOLUME:
        body["backend_state"] = states.get(service.host)
    if call.version.at_least("3.7"):
        body["cluster"] = None
    # os-extended-services
    body["disabled_reason"] = service.disabled_reason or None
    if service.binary == VOLUME:
        body["replication_status"] = "not-capable"
        body["active_backend_id"] = None
        body["frozen"] = service.frozen
    return body


def _named_service(body: dict) -> tuple[str, str, Service]:
    """The service a body names by ``host`` and ``binary`` (or the older ``service``)."""
    host = body.get("host")
    if not host:
        raise exceptions.InvalidInput(reason="Host field is missing.")
    binary = body.get("binary") or body.get("service") or ""
    service = Service.objects.filter(host=host, binary=binary).first()
    if service is None:
        raise Fault(404, f"Service None could not be found on host {host}.")
    return host, binary, service


def update_service(call: Call, action: str) -> tuple[int, dict | None]:
    """PUT /os-services/{enable, disable, disable-log-reason, freeze, thaw}."""
    call.require_admin("volume_extension:services:update")
    body = call.body()
    if action in ("freeze", "thaw"):
        schemas.validate(FREEZE_THAW, body)
        _freeze(body, frozen=action == "freeze")
        return 200, None
    if action not in ("enable", "disable", "disable-log-reason"):
        raise Fault(404, "Unknown action")
    schemas.validate(DISABLE_LOG_REASON if action == "disable-log-reason" else ENABLE_DISABLE, body)
    host, binary, service = _named_service(body)
    answer = {
        "host": host,
        "service": body.get("service", ""),
        "binary": body.get("binary", ""),
        "status": "enabled" if action == "enable" else "disabled",
        "disabled": action != "enable",
    }
    values = {"disabled": answer["disabled"]}
    if action == "enable":
        values["disabled_reason"] = ""
        answer["disabled_reason"] = None
    elif action == "disable-log-reason":
        reason = body["disabled_reason"].strip()
        if not reason:
            raise exceptions.InvalidInput(reason="Disabled reason contains invalid characters.")
        values["disabled_reason"] = answer["disabled_reason"] = reason
    Service.objects.filter(pk=service.pk).update(**values)
    return 200, answer


def _freeze(body: dict, frozen: bool) -> None:
    """Cinder's freeze_host / thaw_host: every volume service of the host changes by
    compare-and-swap; a frozen backend is disabled (reason ``frozen``) and refuses
    changes to its volumes and snapshots until thawed."""
    host = body.get("host")
    if not host or body.get("cluster"):
        raise exceptions.InvalidInput(reason="Host field is missing.")
    services = Service.objects.filter(host_filter("host", host), binary=VOLUME)
    if not services.exists():
        raise exceptions.InvalidInput(reason=f"No service found with host={host}")
    with transaction.atomic():
        changed = services.filter(frozen=not frozen).update(
            frozen=frozen, disabled=frozen, disabled_reason="frozen" if frozen else ""
        )
    if not changed:
        raise exceptions.InvalidInput(
            reason=f"No service could be changed: frozen in {host} must be {not frozen} "
            "to failover."
        )


# -- os-hosts ---------------------------------------------------------------------------


def list_hosts(call: Call) -> tuple[int, dict]:
    call.require_admin("volume_extension:hosts")
    services = Service.objects.filter(disabled=False)
    zone = call.request.GET.get("zone")
    if zone:
        services = services.filter(availability_zone=zone)
    hosts = [
        {
            "host_name": service.host,
            "service": service.binary,
            "zone": service.availability_zone,
            "service-status": "available" if service.is_up() else "unavailable",
            "service-state": "disabled" if service.disabled else "enabled",
            "last-update": builders.isotime(service.heartbeat_at),
        }
        for service in services
    ]
    return 200, {"hosts": hosts}


def show_host(call: Call, host: str) -> tuple[int, dict]:
    """Usage on one volume service's host: the totals, then each project's."""
    call.require_admin("volume_extension:hosts")
    if not Service.objects.filter(host=host, binary=VOLUME).exists():
        raise Fault(404, f"Host {host} could not be found.")
    volumes = Volume.objects.filter(host_filter("host", host))
    snapshots = Snapshot.objects.filter(host_filter("volume__host", host))
    rows = {None: _usage(volumes, snapshots)}
    for project_id in sorted(set(volumes.values_list("project_id", flat=True))):
        rows[project_id] = _usage(
            volumes.filter(project_id=project_id), snapshots.filter(project_id=project_id)
        )
    resources = [
        {"resource": {"host": host, "project": project or "(total)", **usage}}
        for project, usage in rows.items()
    ]
    return 200, {"host": resources}


def _usage(volumes, snapshots) -> dict[str, str]:
    v = volumes.aggregate(count=Count("id"), size=Sum("size"))
    s = snapshots.aggregate(count=Count("id"), size=Sum("volume_size"))
    return {
        "volume_count": str(v["count"]),
        "total_volume_gb": str(v["size"] or 0),
        "snapshot_count": str(s["count"]),
        "total_snapshot_gb": str(s["size"] or 0),
    }


def update_host(call: Call, host: str) -> tuple[int, None]:
    """Cinder routes it and its HostAPI does not implement it."""
    call.require_admin("volume_extension:hosts")
    if not Service.objects.filter(host=host, disabled=False).exists():
        raise Fault(404, f"Host {host} could not be found.")
    raise Fault(501, "The requested functionality is not supported.")


# -- capabilities -----------------------------------------------------------------------

STANDARD_PROPERTIES = {
    "thin_provisioning": ("Thin Provisioning", "Sets thin provisioning."),
    "compression": ("Compression", "Enables compression."),
    "qos": ("QoS", "Enables QoS."),
    "replication_enabled": ("Replication", "Enables replication."),
}


def capabilities(call: Call, host: str) -> tuple[int, dict]:
    call.require_admin("volume_extension:capabilities")
    service = Service.objects.filter(host_filter("host", host), binary=VOLUME).first()
    if service is None:
        raise Fault(404, f"Can't find service: {host}")
    reported = [
        pool["capabilities"]
        for pool in scheduler_rpcapi.get_pools(call.caller.context())
        if extract_host(pool["name"], "backend") == service.host
    ]
    stats = reported[0] if reported else {}
    protocol = stats.get("storage_protocol")
    if isinstance(protocol, list):
        protocol = protocol[0]
    return 200, {
        "namespace": f"OS::Storage::Capabilities::{service.host}",
        "vendor_name": stats.get("vendor_name"),
        "volume_backend_name": stats.get("volume_backend_name"),
        "pool_name": None,  # a backend's stats name no pool; its pools' reports do
        "driver_version": stats.get("driver_version"),
        "storage_protocol": protocol,
        "display_name": None,
        "description": None,
        "visibility": None,
        "replication_targets": [],
        "properties": {
            key: {"title": title, "description": text, "type": "boolean"}
            for key, (title, text) in STANDARD_PROPERTIES.items()
        },
    }
