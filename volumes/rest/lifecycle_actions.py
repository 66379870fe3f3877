"""Actions that move a volume's data or type: ``revert`` (Cinder's ``v3/volumes.py``, 3.40),
``os-retype`` (``contrib/volume_actions.py``) and the admin's ``os-migrate_volume``
(``contrib/admin_actions.py``)."""

from core.cinder import exceptions
from volumes.lifecycle import migrate, retype, revert
from volumes.rest import schemas
from volumes.rest.actions import volume_action
from volumes.rest.faults import Fault
from volumes.rest.routing import Call

REVERT = {
    "type": "object",
    "properties": {
        "revert": {
            "type": "object",
            "properties": {"snapshot_id": {"type": ["string", "null"]}},
            "additionalProperties": True,
        }
    },
    "required": ["revert"],
    "additionalProperties": False,
}


@volume_action("revert", min_version="3.40")
def revert_volume(call: Call, volume, args) -> tuple[int, None]:
    """400 unless the snapshot is the volume's latest and of its size; 409 unless both are
    ``available``."""
    schemas.validate(REVERT, {"revert": args})
    try:
        snapshot = revert.check_latest(volume, args.get("snapshot_id"))
        revert.revert(call.caller.context(), volume, snapshot)
    except (exceptions.InvalidVolume, exceptions.InvalidSnapshot) as error:
        raise Fault(409, str(error)) from error
    return 202, None


RETYPE = {
    "type": "object",
    "properties": {
        "os-retype": {
            "type": "object",
            "properties": {
                "new_type": {"type": "string"},
                "migration_policy": {"type": ["string", "null"], "enum": [*retype.POLICIES, None]},
            },
            "required": ["new_type"],
            "additionalProperties": False,
        }
    },
    "required": ["os-retype"],
    "additionalProperties": False,
}


@volume_action("os-retype")
def retype_volume(call: Call, volume, args) -> tuple[int, None]:
    schemas.validate(RETYPE, {"os-retype": args})
    retype.retype(
        call.caller.context(), volume, args["new_type"], args.get("migration_policy") or "never"
    )
    return 202, None


def _migrate_schema(with_cluster: bool) -> dict:
    """Cinder's ``migrate_volume`` schema, and from 3.16 ``migrate_volume_v316`` (``cluster``;
    ``host`` no longer required)."""
    properties = {
        "host": {"type": ["string", "null"] if with_cluster else "string", "maxLength": 255},
        "force_host_copy": schemas.boolean_ish,
        "lock_volume": schemas.boolean_ish,
    }
    body = {"type": "object", "properties": properties, "additionalProperties": False}
    if with_cluster:
        properties["cluster"] = {"type": ["string", "null"], "maxLength": 255}
    else:
        body["required"] = ["host"]
    return {
        "type": "object",
        "properties": {"os-migrate_volume": body},
        "required": ["os-migrate_volume"],
        "additionalProperties": False,
    }


@volume_action("os-migrate_volume", admin="volume_extension:volume_admin_actions:migrate_volume")
def migrate_volume(call: Call, volume, args) -> tuple[int, None]:
    """One of ``host`` and (from 3.16) ``cluster``; 400 for the current host, a volume that
    cannot move, or a destination with no service up."""
    with_cluster = call.version.at_least("3.16")
    schemas.validate(_migrate_schema(with_cluster), {"os-migrate_volume": args})
    cluster = args.get("cluster") if with_cluster else None
    host = args.get("host")
    if bool(cluster) == bool(host):
        message = (
            "One and only one of cluster and host must be set."
            if with_cluster
            else "Host field is missing."
        )
        raise exceptions.InvalidInput(reason=message)
    migrate.migrate(
        call.caller.context(),
        volume,
        host,
        cluster,
        force_host_copy=schemas.truthy(args.get("force_host_copy")),
        lock_volume=schemas.truthy(args.get("lock_volume")),
    )
    return 202, None
