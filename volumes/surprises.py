"""Where Cinder is faithful but surprising, the volume page says so, with the source line.

Each surprise is recognised from the recorded runs and the volume, and explained with a
link to the Cinder source (pinned to the commit these notes were checked against) that
makes it happen.
"""

from core.cinder.models import Volume
from core.kernel.models import FlowRun
from scheduler import rpcapi as scheduler_rpcapi

CINDER = "https://opendev.org/openstack/cinder/src/commit/ab09bc39dbcd4d5b301f2f5da8fcfd9e5ef1fe8c/"
NOTES = {
    "no_backend_success": (
        "The scheduler's flow ends in success although no backend was found: Cinder's "
        "ScheduleCreateVolumeTask catches NoValidBackend, sets the volume to error and records "
        "the user message itself, and re-raises only other errors.",
        CINDER + "cinder/scheduler/flows/create_volume.py#L150-L162",
    ),
    "same_pool_retry": (
        "The reschedule picked the backend that had just failed: Cinder's default filters "
        "(AvailabilityZoneFilter, CapacityFilter, CapabilitiesFilter) keep no memory of "
        "attempts; IgnoreAttemptedHostsFilter in scheduler_default_filters would leave it out.",
        CINDER + "cinder/scheduler/host_manager.py#L45-L50",
    ),
    "thin_on_thick": (
        "A type asking for provisioning:type=thin landed on a thick pool: the CapabilitiesFilter "
        "ignores scoped keys other than capabilities:*, and provisioning:type only tells the "
        "CapacityFilter how to count space.",
        CINDER + "cinder/scheduler/filters/capabilities_filter.py#L56-L66",
    ),
}


def surprises(volume: Volume, runs: list[FlowRun], context: dict | None = None) -> list[dict]:
    found = []
    create = [r for r in runs if r.operation == "create"]
    scheduled = [r for r in create if r.flow == "scheduler"]
    if (
        volume.status == "error"
        and not volume.host
        and any(r.state == "success" for r in scheduled)
    ):
        found.append("no_backend_success")
    hosts = [r.host for r in sorted(create, key=lambda r: r.attempt) if r.flow == "manager"]
    if any(host in hosts[:i] for i, host in enumerate(hosts)):
        found.append("same_pool_retry")
    specs = volume.volume_type.extra_specs_dict()
    if volume.host and specs.get("provisioning:type") == "thin" and not _thin_pool(volume.host):
        found.append("thin_on_thick")
    return [{"key": k, "text": NOTES[k][0], "source": NOTES[k][1]} for k in found]


def _thin_pool(pool_name: str) -> bool:
    for pool in scheduler_rpcapi.get_pools({}):
        if pool["name"] == pool_name:
            return bool(pool["capabilities"].get("thin_provisioning_support"))
    return True  # unknown pool: say nothing
