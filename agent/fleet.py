"""The simulated fleet's agent: every backend ``manage.py load_fleet`` registered, in one process.

It heartbeats their services, reports their pools (each pool's baseline plus the
volumes placed on it) to the scheduler, and serves their queues with the real
manager flow on simulated volume groups (``manage.py fleet_agent``).
"""

from datetime import UTC, datetime
from typing import Any

from django.db.models import Count, Sum
from django.utils import timezone

from agent.models import FleetPool
from core.cinder.models import Volume
from core.kernel.models import Service
from core.kernel.runtime import host_stats
from scheduler import rpcapi as scheduler_rpcapi

#: The host name the fleet agent's command line carries.
FLEET_AGENT_HOST = "fleet"


def hosts() -> list[str]:
    """Every simulated backend, ``host@backend``."""
    return sorted(set(FleetPool.objects.values_list("host", flat=True)))


def heartbeat(hosts: list[str]) -> None:
    """Every simulated backend's heartbeat, in one statement per 500."""
    values = {"heartbeat_at": timezone.now(), "host_stats": host_stats()}
    for start in range(0, len(hosts), 500):
        Service.objects.filter(binary="cinder-volume", host__in=hosts[start : start + 500]).update(
            **values
        )


def report() -> None:
    """Every simulated pool's report, sent to the scheduler in one cast."""
    scheduler_rpcapi.update_pools_capabilities(reports(), datetime.now(UTC).isoformat())


def reports() -> list[tuple[str, str, str, dict[str, Any]]]:
    """Each simulated pool's report now: its baseline plus the volumes placed on it.

    As Cinder's manager adds its own ``allocated_capacity_gb``, the volumes the
    database holds on a pool move allocated, provisioned and free capacity and
    the volume count, so a fleet pool fills up as volumes land on it.
    """
    placed = {
        row["host"]: (row["gb"] or 0, row["n"])
        for row in Volume.objects.filter(host__contains="#")
        .exclude(status__in=("deleted", "error"))
        .values("host")
        .annotate(gb=Sum("size"), n=Count("id"))
    }
    out = []
    for pool in FleetPool.objects.all():
        caps = dict(pool.capabilities)
        gb, count = placed.get(pool.name, (0, 0))
        if gb:
            caps = _with_volumes(caps, gb, count)
        out.append((pool.name, pool.host, pool.availability_zone, caps))
    return out


def _with_volumes(caps: dict[str, Any], gb: int, count: int) -> dict[str, Any]:
    allocated = caps.get("allocated_capacity_gb", 0) or 0
    provisioned = caps.get("provisioned_capacity_gb")
    caps["allocated_capacity_gb"] = allocated + gb
    caps["provisioned_capacity_gb"] = (allocated if provisioned is None else provisioned) + gb
    free = caps.get("free_capacity_gb")
    if isinstance(free, int | float) and not caps.get("thin_provisioning_support"):
        caps["free_capacity_gb"] = free - gb  # thin volumes take no space until written
    caps["total_volumes"] = (caps.get("total_volumes", 0) or 0) + count
    return caps
