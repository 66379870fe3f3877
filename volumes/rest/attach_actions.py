"""The volume actions that attach and detach (Cinder's ``contrib/volume_actions.py``), and
the admin's ``os-force_detach`` (``contrib/admin_actions.py``), with Cinder's schemas.

The ones that reach the backend are RPC calls: the answer waits for the agent. A failure
on the backend is a 500 with Cinder's words (its details go to the task's trace).
"""

import contextlib

from core.cinder import exceptions
from core.kernel import queues
from volumes.lifecycle import attach
from volumes.rest import schemas
from volumes.rest.actions import volume_action
from volumes.rest.admin_actions import POLICY
from volumes.rest.faults import Fault
from volumes.rest.routing import Call

UUID = {"type": "string", "pattern": schemas.UUID_PATTERN}
CONNECTOR = {"type": ["object", "string"]}
CONNECTOR_OR_NULL = {"type": ["string", "object", "null"]}


def _one(name: str, body: dict) -> dict:
    """Cinder's schema for ``{"<name>": {...}}``: that key, nothing else."""
    return {
        "type": "object",
        "properties": {name: body},
        "required": [name],
        "additionalProperties": False,
    }


def _object(properties: dict, required=(), **extra) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
        **extra,
    }


ATTACH = _one(
    "os-attach",
    _object(
        {
            "instance_uuid": UUID,
            "mountpoint": {"type": "string", "minLength": 1, "maxLength": 255},
            "host_name": {"type": "string", "maxLength": 255},
            "mode": {"type": "string", "enum": ["rw", "ro"]},
        },
        required=["mountpoint"],
        anyOf=[{"required": ["instance_uuid"]}, {"required": ["host_name"]}],
    ),
)
DETACH = _one(
    "os-detach",
    {
        "type": ["object", "null"],
        "properties": {"attachment_id": {"oneOf": [UUID, {"type": "null"}]}},
        "additionalProperties": False,
    },
)
INITIALIZE = _one("os-initialize_connection", _object({"connector": CONNECTOR}, ["connector"]))
TERMINATE = _one(
    "os-terminate_connection", _object({"connector": CONNECTOR_OR_NULL}, ["connector"])
)
FORCE_DETACH = _one(
    "os-force_detach",
    _object({"connector": CONNECTOR_OR_NULL, "attachment_id": {"type": ["string", "null"]}}),
)


@contextlib.contextmanager
def backend(message: str):
    """A failure on the backend, or no answer from it: a 500 with Cinder's words."""
    try:
        yield
    except (exceptions.VolumeBackendAPIException, queues.RemoteError, queues.CallTimedOut):
        raise Fault(500, message) from None


def connector_of(value) -> dict | None:
    """Cinder's schema lets a connector be a string, which its manager cannot read."""
    if isinstance(value, str):
        raise exceptions.InvalidInput(reason="connector must be an object")
    return value


# -- reserving ---------------------------------------------------------------------------


@volume_action("os-reserve")
def reserve(call: Call, volume, args) -> tuple[int, None]:
    attach.reserve(volume)
    return 202, None


@volume_action("os-unreserve")
def unreserve(call: Call, volume, args) -> tuple[int, None]:
    attach.unreserve(volume)
    return 202, None


@volume_action("os-begin_detaching")
def begin_detaching(call: Call, volume, args) -> tuple[int, None]:
    attach.begin_detaching(volume)
    return 202, None


@volume_action("os-roll_detaching")
def roll_detaching(call: Call, volume, args) -> tuple[int, None]:
    attach.roll_detaching(volume)
    return 202, None


# -- the calls ---------------------------------------------------------------------------


@volume_action("os-initialize_connection")
def initialize_connection(call: Call, volume, args) -> tuple[int, dict]:
    schemas.validate(INITIALIZE, {"os-initialize_connection": args})
    connector = connector_of(args["connector"])
    with backend("Unable to fetch connection information from backend."):
        info = attach.initialize_connection(call.caller.context(), volume, connector)
    info["enforce_multipath"] = connector.get("enforce_multipath", False)
    return 200, {"connection_info": info}


@volume_action("os-attach")
def attach_volume(call: Call, volume, args) -> tuple[int, None]:
    schemas.validate(ATTACH, {"os-attach": args})
    with backend(
        "The server has either erred or is incapable of performing the requested operation."
    ):
        attach.attach(
            call.caller.context(),
            volume,
            args.get("instance_uuid"),
            args.get("host_name"),
            args["mountpoint"],
            args.get("mode", "rw"),
        )
    return 202, None


@volume_action("os-terminate_connection")
def terminate_connection(call: Call, volume, args) -> tuple[int, None]:
    schemas.validate(TERMINATE, {"os-terminate_connection": args})
    with backend("Unable to terminate volume connection from backend."):
        attach.terminate_connection(call.caller.context(), volume, connector_of(args["connector"]))
    return 202, None


@volume_action("os-detach")
def detach_volume(call: Call, volume, args) -> tuple[int, None]:
    schemas.validate(DETACH, {"os-detach": args})
    with backend(
        "The server has either erred or is incapable of performing the requested operation."
    ):
        attach.detach(call.caller.context(), volume, (args or {}).get("attachment_id"))
    return 202, None


@volume_action("os-force_detach", admin=POLICY.format("force_detach"))
def force_detach(call: Call, volume, args) -> tuple[int, None]:
    schemas.validate(FORCE_DETACH, {"os-force_detach": args})
    with backend("Unable to terminate volume connection from backend."):
        attach.force_detach(
            call.caller.context(),
            volume,
            connector_of(args.get("connector")),
            args.get("attachment_id"),
        )
    return 202, None
