"""The scheduler's part in operations after a create: is there room (extend), where to go
(retype, migrate).

Cinder runs these as plain ``SchedulerManager`` methods, not taskflow flows; Cinderlab runs
each method's step as a one-task flow (named after the method) so it is recorded and
shown like the create's scheduler flow, its decision trace included.
"""

from taskflow.patterns import linear_flow

from core.kernel import flows
from scheduler import driver
from scheduler.state import Request


class SchedulerMethodTask(flows.CinderTask):
    module = "cinder.scheduler.filter_scheduler.FilterScheduler"


class BackendPassesFiltersTask(SchedulerMethodTask):
    """``backend_passes_filters``: every pool filtered and weighed; the volume's own pool
    must pass with the growth only (the CapacityFilter's ``new_size - size``).

    Reversion strategy: N/A (nothing consumed unless it passed).
    """

    def execute(self, request_spec):
        spec = request_spec
        growth = spec["new_size"] - spec["size"]
        req = Request(
            size=growth,
            extra_specs=spec["volume_type"]["extra_specs"],
            availability_zone=spec.get("availability_zone") or None,
            volume_id=spec["volume_id"],
        )
        return {
            "backend": driver.backend_passes_filters(spec["host"], req, "extend"),
            "growth": growth,
        }


def extend_flow() -> linear_flow.Flow:
    return linear_flow.Flow("volume_extend_scheduler").add(
        BackendPassesFiltersTask(addons=("volume:extend",))
    )
