"""Registering a simulated fleet (``manage.py load_fleet``): every service's part at once.

A fleet file (read by :mod:`scheduler.fleet_file`) becomes, for each backend, a
volume service with a fresh heartbeat, a backend configuration the fleet agent
serves (:mod:`agent.fleet`), each pool's baseline, and the pools' first report in
the scheduler. The deployment sets this up across services, as ``seed_demo`` does.
"""

from typing import Any

from django.db import transaction
from django.utils import timezone

from agent.fleet import reports
from agent.models import BackendConfig, FleetPool
from core.kernel.hosts import backend_parts, extract_host
from core.kernel.models import Service
from core.kernel.runtime import host_stats
from scheduler import host_manager
from scheduler.fleet_file import FleetError, check
from scheduler.models import Pool
from scheduler.state import DEFAULT_AVAILABILITY_ZONE


def register(data: dict[str, Any]) -> tuple[int, int]:
    """Register the fleet in ``data`` (checked): pools, their services and backend configs.

    1. Refuse pools of a backend that is configured but not simulated (a demo agent's).
    2. In one transaction: store each pool's baseline (FleetPool), a cinder-volume
       service per backend with a fresh heartbeat, a BackendConfig per backend (a
       simulated volume group, not started by ``make run``: the fleet agent serves
       it), and the pools' first report. A file loaded again replaces its pools.
    Returns (pools, backends).
    """
    check(data)
    entries = data["pools"]
    backends: dict[str, dict[str, Any]] = {}
    for entry in entries:
        backends.setdefault(extract_host(entry["name"], "backend"), entry)
    simulated = set(FleetPool.objects.values_list("host", flat=True))
    for host in backends:
        name, backend = backend_parts(host)
        if (
            host not in simulated
            and BackendConfig.objects.filter(host=name, backend_name=backend).exists()
        ):
            raise FleetError(f"{host} is a configured backend, not a simulated one")
    now = timezone.now()
    stats = host_stats()
    with transaction.atomic():
        FleetPool.objects.filter(host__in=list(backends)).delete()
        FleetPool.objects.bulk_create(
            [
                FleetPool(
                    name=e["name"],
                    host=extract_host(e["name"], "backend"),
                    availability_zone=e.get("availability_zone") or DEFAULT_AVAILABILITY_ZONE,
                    capabilities=e.get("capabilities") or {},
                )
                for e in entries
            ],
            batch_size=500,
        )
        services, configs = [], []
        for host, entry in backends.items():
            zone = entry.get("availability_zone") or DEFAULT_AVAILABILITY_ZONE
            services.append(
                Service(
                    binary="cinder-volume",
                    host=host,
                    availability_zone=zone,
                    heartbeat_at=now,
                    host_stats=stats,
                )
            )
            name, backend = backend_parts(host)
            caps = entry.get("capabilities") or {}
            configs.append(
                BackendConfig(
                    host=name, backend_name=backend, **_backend_config(caps, backend, zone)
                )
            )
        Service.objects.bulk_create(
            services,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["binary", "host"],
            update_fields=["availability_zone", "heartbeat_at", "host_stats"],
        )
        BackendConfig.objects.bulk_create(
            configs,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["host", "backend_name"],
            update_fields=list(_backend_config({}, "", "")),
        )
        host_manager.store_pool_reports(reports(), now)
    return len(entries), len(backends)


def _backend_config(caps: dict[str, Any], backend: str, zone: str) -> dict[str, Any]:
    total = caps.get("total_capacity_gb")
    size = float(total) if isinstance(total, int | float) and total > 0 else 1000.0
    thin = bool(caps.get("thin_provisioning_support"))
    ratio = caps.get("max_over_subscription_ratio") or "20.0"
    return {
        "volume_backend_name": str(caps.get("volume_backend_name") or backend),
        "availability_zone": zone,
        "vg_size_gb": size,
        "lvm_type": "thin" if thin else "default",
        "runner": "simulated",
        "reserved_percentage": int(caps.get("reserved_percentage") or 0),
        "max_over_subscription_ratio": str(ratio),
        "enabled": False,  # make run starts no per-backend agent: the fleet agent serves it
    }


def unregister() -> int:
    """Remove every simulated pool, its service, backend config and stored report."""
    with transaction.atomic():
        hosts = sorted(set(FleetPool.objects.values_list("host", flat=True)))
        count = FleetPool.objects.count()
        for start in range(0, len(hosts), 500):
            chunk = hosts[start : start + 500]
            Pool.objects.filter(host__in=chunk).delete()
            Service.objects.filter(binary="cinder-volume", host__in=chunk).delete()
            for host in chunk:
                name, backend = backend_parts(host)
                BackendConfig.objects.filter(host=name, backend_name=backend).delete()
        FleetPool.objects.all().delete()
    return count
