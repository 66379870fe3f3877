"""Teaching pace: a run a learner asked to watch holds each task for a moment.

A real create takes a fifth of a second, over before the page opens. At ``teaching`` pace
every task of the scheduler's and the manager's flows is held ``TEACHING_HOLD`` seconds as it
starts running, so each turn pending → running → success can be seen. The hold is the lab's
teaching aid, not Cinder's timing: runs held so are marked, and the page says so.
"""

from django.conf import settings

PACES = (("real", "real"), ("teaching", "teaching: each task held about a second"))


def hold_seconds(context: dict | None) -> float:
    """How long each task of a run with this request context is held (0 at real pace)."""
    if context and context.get("pace") == "teaching":
        return settings.TEACHING_HOLD_SECONDS
    return 0.0
