"""Admin actions on volumes and snapshots (Cinder's ``contrib/admin_actions.py``):
``os-reset_status``, ``os-force_delete`` (and, in :mod:`volumes.rest.attach_actions`,
``os-force_detach``). Only admins pass their policies."""

from volumes.lifecycle import repair
from volumes.rest.actions import body_of, snapshot_action, volume_action
from volumes.rest.faults import Fault
from volumes.rest.routing import Call

POLICY = "volume_extension:volume_admin_actions:{}"
SNAPSHOT_POLICY = "volume_extension:snapshot_admin_actions:{}"


def _string_or_null(args: dict, key: str) -> str | None:
    value = args.get(key)
    if value is not None and not isinstance(value, str):
        raise Fault(400, f"Invalid input for field/attribute {key}. Value: {value}.")
    return value


@volume_action("os-reset_status", admin=POLICY.format("reset_status"))
def reset_status(call: Call, volume, args) -> tuple[int, None]:
    args = body_of(args, "os-reset_status")
    unknown = set(args) - {"status", "attach_status", "migration_status"}
    if unknown:
        raise Fault(400, f"Additional properties are not allowed ({', '.join(sorted(unknown))})")
    repair.reset_volume(
        volume,
        status=_string_or_null(args, "status"),
        attach_status=_string_or_null(args, "attach_status"),
        migration_status=_string_or_null(args, "migration_status"),
    )
    return 202, None


@volume_action("os-force_delete", admin=POLICY.format("force_delete"))
def force_delete(call: Call, volume, args) -> tuple[int, None]:
    repair.force_delete_volume(call.caller.context(), volume)
    return 202, None


@snapshot_action("os-reset_status", admin=SNAPSHOT_POLICY.format("reset_status"))
def reset_snapshot_status(call: Call, snapshot, args) -> tuple[int, None]:
    args = body_of(args, "os-reset_status")
    if set(args) - {"status"}:
        raise Fault(400, "Additional properties are not allowed")
    repair.reset_snapshot(snapshot, _string_or_null(args, "status"))
    return 202, None


@snapshot_action("os-force_delete", admin=SNAPSHOT_POLICY.format("force_delete"))
def force_delete_snapshot(call: Call, snapshot, args) -> tuple[int, None]:
    repair.force_delete_snapshot(call.caller.context(), snapshot)
    return 202, None
