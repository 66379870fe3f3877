"""Start here: three one-click scenarios at teaching pace, each opening its live page.

- ``plain``: a 1 GiB volume, every task turning pending → running → success.
- ``no-backend``: the gold type (only ``node2@lvm-gold`` offers its capability, in zone az2)
  asked for in zone nova: every pool is filtered out and the volume ends ``error``.
- ``reschedule``: a one-shot fault on the pool the scheduler will choose, for this volume
  only: the first attempt fails, reverts, and the create is scheduled again.
"""

import uuid

from agent.drivers import backend_config
from agent.models import Fault
from core.cinder.models import Volume
from scheduler import whatif
from volumes import api

SCENARIOS = {
    "plain": ("A plain create", "every task, pending → running → success"),
    "no-backend": ("A request no backend can take", "gold in zone nova: filtered to nothing"),
    "reschedule": ("A reschedule", "the chosen backend fails once; the create tries again"),
}


def start(name: str, user, project) -> Volume:
    """Run scenario ``name`` for ``user`` in ``project``; returns the volume to watch."""
    context = api.request_context(user, project) | {"pace": "teaching"}
    title = SCENARIOS[name][0].lower()
    if name == "no-backend":
        return api.create(context, size=1, name=title, volume_type="gold", availability_zone="nova")
    if name == "reschedule":
        return _rescheduled(context, title)
    return api.create(context, size=1, name=title)


def _rescheduled(context: dict, title: str) -> Volume:
    """The fault is scoped to the volume's id, chosen before the create (so nobody else's
    volume is hit) on the pool the scheduler picks for it right now."""
    chosen = whatif.run(1, {}, "nova").decision.chosen
    volume_id = uuid.uuid4()
    fault = None
    if chosen:
        fault = Fault.objects.create(
            backend=backend_config(chosen),
            operation="create",
            fail_next=1,
            volume_id=volume_id,
        )
    try:
        return api.create(context, size=1, name=title, volume_id=str(volume_id))
    except Exception:
        if fault is not None:
            fault.delete()
        raise
