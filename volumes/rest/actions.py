"""``POST /volumes/{id}/action`` and ``POST /snapshots/{id}/action``: one handler per action.

Cinder's action controllers (``contrib/volume_actions.py``, ``contrib/admin_actions.py``,
``v3/volumes.py``...) are found by the one key of the body. Each handler registers here with
:func:`volume_action` or :func:`snapshot_action`, says from which microversion it exists and
whether only admins may run it (checked before the resource is looked up, as Cinder's policy
check), and gets the call, the resource and the action's own body.
"""

from collections.abc import Callable
from dataclasses import dataclass

from core.cinder import exceptions
from volumes.rest import faults
from volumes.rest.faults import Fault
from volumes.rest.routing import Call
from volumes.rest.volumes import get_snapshot, get_volume


@dataclass(frozen=True)
class Action:
    handler: Callable
    min_version: str | None
    admin_policy: str | None


VOLUME_ACTIONS: dict[str, Action] = {}
SNAPSHOT_ACTIONS: dict[str, Action] = {}


def _register(table: dict, name: str, min_version: str | None, admin: str | None):
    def add(handler: Callable) -> Callable:
        table[name] = Action(handler, min_version, admin)
        return handler

    return add


def volume_action(name: str, *, min_version: str | None = None, admin: str | None = None):
    """Register a volume action; ``admin`` names the policy only admins pass."""
    return _register(VOLUME_ACTIONS, name, min_version, admin)


def snapshot_action(name: str, *, min_version: str | None = None, admin: str | None = None):
    return _register(SNAPSHOT_ACTIONS, name, min_version, admin)


def _dispatch(call: Call, table: dict, lookup: Callable, resource_id: str):
    body = call.body()
    if len(body) != 1:
        raise Fault(400, "Malformed request body: exactly one action is expected.")
    ((name, args),) = body.items()
    action = table.get(name)
    if action is None or (action.min_version and not call.version.at_least(action.min_version)):
        raise Fault(400, f"There is no such action: {name}")
    if action.admin_policy and not call.caller.is_admin:
        raise faults.forbidden(action.admin_policy)
    return action.handler(call, lookup(call, resource_id), args)


def volume(call: Call, volume_id: str):
    return _dispatch(call, VOLUME_ACTIONS, get_volume, volume_id)


def snapshot(call: Call, snapshot_id: str):
    return _dispatch(call, SNAPSHOT_ACTIONS, get_snapshot, snapshot_id)


def body_of(args, name: str) -> dict:
    """An action's own body, which must be an object (``{"os-extend": {...}}``)."""
    if not isinstance(args, dict):
        raise exceptions.InvalidInput(reason=f"{name} must be an object")
    return args
