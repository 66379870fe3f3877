"""``os-update_snapshot_status`` (Cinder's ``contrib/snapshot_actions.py``): what drives a
snapshot Cinder does not make itself (Nova's assisted snapshots) reports its progress.

From ``creating`` a snapshot may go to ``creating``, ``available`` or ``error``; from
``deleting`` to ``deleting`` or ``error_deleting``; by compare-and-swap, so a status that
moved on meanwhile is not overwritten.
"""

import re

from core.cinder import exceptions
from core.cinder.models import Snapshot
from volumes.rest.actions import body_of, snapshot_action
from volumes.rest.faults import Fault
from volumes.rest.routing import Call

ALLOWED = {
    "creating": ("creating", "available", "error"),
    "deleting": ("deleting", "error_deleting"),
}
PERCENT = re.compile(r"^(\d+)%$")


def _progress(value) -> str | None:
    if not value:
        return None
    match = PERCENT.match(value) if isinstance(value, str) else None
    if match is None or int(match.group(1)) > 100:
        raise exceptions.InvalidInput(
            reason="progress must be an integer percentage between 0 and 100"
        )
    return value


@snapshot_action("os-update_snapshot_status")
def update_snapshot_status(call: Call, snapshot, args) -> tuple[int, None]:
    args = body_of(args, "os-update_snapshot_status")
    if set(args) - {"status", "progress"} or not isinstance(args.get("status"), str):
        raise Fault(400, "Invalid input for field/attribute os-update_snapshot_status.")
    status, progress = args["status"], _progress(args.get("progress"))
    current = snapshot.status
    if current not in ALLOWED:
        raise Fault(400, f"Snapshot status {current} not allowed for update_snapshot_status")
    if status not in ALLOWED[current]:
        raise Fault(
            400,
            f"Provided snapshot status {status} not allowed for snapshot with status {current}.",
        )
    values = {"status": status, **({"progress": progress} if progress else {})}
    if not Snapshot.conditional_update(snapshot.id, {"status": current}, **values):
        raise Fault(400, f"Snapshot status {current} not allowed for update_snapshot_status")
    return 202, None
