"""Actions that move a volume's data or type: ``revert`` (Cinder's ``v3/volumes.py``, 3.40),
``os-retype`` (``contrib/volume_actions.py``) and the admin's ``os-migrate_volume``
(``contrib/admin_actions.py``)."""

from core.cinder import exceptions
from volumes.lifecycle import revert
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
