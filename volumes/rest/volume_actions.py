"""The volume actions a project member may run (Cinder's ``contrib/volume_actions.py``):
``os-extend`` here; attaching and detaching in :mod:`volumes.rest.attach_actions`."""

from volumes.lifecycle import extend
from volumes.rest import schemas
from volumes.rest.actions import volume_action
from volumes.rest.routing import Call

EXTEND = {
    "type": "object",
    "properties": {
        "os-extend": {
            "type": "object",
            "properties": {"new_size": schemas.size},
            "required": ["new_size"],
            "additionalProperties": False,
        }
    },
    "required": ["os-extend"],
    "additionalProperties": False,
}


@volume_action("os-extend")
def extend_volume(call: Call, volume, args) -> tuple[int, None]:
    """From 3.42 an ``in-use`` volume may be extended too (Cinder's extend_attached)."""
    schemas.validate(EXTEND, {"os-extend": args})
    new_size = schemas.int_size(args["new_size"])
    extend.extend(
        call.caller.context(), volume, new_size, attached_allowed=call.version.at_least("3.42")
    )
    return 202, None
