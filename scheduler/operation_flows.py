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
    """``backend_passes_filters``: every pool filtered and weighed; the backend asked for
    must be among those that passed. An extend asks it of the volume's own pool with the
    growth only (the CapacityFilter's ``new_size - size``); a migration of the destination,
    with the whole volume and no zone (Cinder's migrate request names none).

    Reversion strategy: N/A (nothing consumed unless it passed).
    """

    def __init__(self, operation: str = "extend", **kwargs):
        super().__init__(**kwargs)
        self.operation = operation

    def execute(self, request_spec):
        spec = request_spec
        if self.operation == "extend":
            size, backend = spec["new_size"] - spec["size"], spec["host"]
            zone = spec.get("availability_zone") or None
        else:
            size, backend, zone = spec["size"], spec["destination"], None
        req = Request(
            size=size,
            extra_specs=spec["volume_type"]["extra_specs"],
            availability_zone=zone,
            volume_id=spec["volume_id"],
        )
        found = driver.backend_passes_filters(backend, req, self.operation)
        return {"backend": found, "growth": size} if self.operation == "extend" else found


class FindRetypeBackendTask(SchedulerMethodTask):
    """``find_retype_backend``: the volume's own pool if it passes the new type's filters
    (the CapacityFilter passes the pool it is on, ``vol_exists_on``), else with
    ``migration_policy`` ``on-demand`` the best pool that does. The zones are the new type's
    ``RESKEY:availability_zones``, else the volume's own.

    Reversion strategy: N/A (nothing consumed unless a pool was chosen).
    """

    def execute(self, request_spec):
        spec = request_spec
        req = Request(
            size=spec["size"],
            extra_specs=spec["volume_type"]["extra_specs"],
            availability_zones=spec["availability_zones"],
            volume_id=spec["volume_id"],
            vol_exists_on=spec["host"],
        )
        policy = spec.get("migration_policy") or "never"
        return driver.find_retype_backend(spec["host"], req, policy, "retype")


def extend_flow() -> linear_flow.Flow:
    return linear_flow.Flow("volume_extend_scheduler").add(
        BackendPassesFiltersTask(addons=("volume:extend",))
    )


def retype_flow() -> linear_flow.Flow:
    return linear_flow.Flow("volume_retype_scheduler").add(
        FindRetypeBackendTask(addons=("volume:retype",), provides="backend")
    )


def migrate_flow() -> linear_flow.Flow:
    return linear_flow.Flow("volume_migrate_scheduler").add(
        BackendPassesFiltersTask("migrate", addons=("volume:migrate",), provides="backend")
    )
