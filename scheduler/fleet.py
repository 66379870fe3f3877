"""Fleet files: Cinder's ``GET /scheduler-stats/get_pools?detail=True`` output, read strictly.

``{"pools": [{"name": "host@backend#pool", "capabilities": {...}}]}``; a pool
may also carry ``"availability_zone"`` (default ``nova``). Used by
``manage.py schedule`` (decide over a file) and ``manage.py load_fleet``
(register a simulated fleet).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scheduler.state import DEFAULT_AVAILABILITY_ZONE, PoolState


class FleetError(ValueError):
    """A fleet file that cannot be used, with a message a person can act on."""


def read(path: str | Path) -> dict[str, Any]:
    """The parsed and checked fleet file at ``path``."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        raise FleetError(f"fleet file {path} does not exist") from None
    except OSError as exc:
        raise FleetError(f"cannot read fleet file {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FleetError(
            f"fleet file {path} is not valid JSON: {exc.msg} (line {exc.lineno}, "
            f"column {exc.colno})"
        ) from None
    check(data, str(path))
    return data


def check(data: Any, where: str = "fleet") -> None:
    if not isinstance(data, dict) or not isinstance(data.get("pools"), list):
        raise FleetError(f'{where}: expected {{"pools": [...]}} as get_pools?detail=True returns')
    seen: set[str] = set()
    for i, entry in enumerate(data["pools"]):
        if not isinstance(entry, dict):
            raise FleetError(f"{where}: pools[{i}] is not an object")
        name = entry.get("name")
        if not isinstance(name, str) or "@" not in name or "#" not in name:
            raise FleetError(f"{where}: pools[{i}] needs a name like host@backend#pool")
        if name in seen:
            raise FleetError(f"{where}: pool {name} appears twice")
        seen.add(name)
        caps = entry.get("capabilities", {})
        if not isinstance(caps, dict):
            raise FleetError(f"{where}: pool {name}: capabilities must be an object")
        zone = entry.get("availability_zone", DEFAULT_AVAILABILITY_ZONE)
        if not isinstance(zone, str) or not zone:
            raise FleetError(f"{where}: pool {name}: availability_zone must be a name")


def pool_states(data: dict[str, Any]) -> list[PoolState]:
    from scheduler.decision import load_fleet

    return load_fleet(data)


def parse_extra_specs(text: str | None) -> dict[str, str]:
    """``--extra-specs`` JSON: an object of string keys to string values."""
    if not text:
        return {}
    try:
        specs = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FleetError(f"--extra-specs is not valid JSON: {exc.msg}") from None
    if not isinstance(specs, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in specs.items()
    ):
        raise FleetError('--extra-specs must be a JSON object of strings, e.g. {"a": "<is> True"}')
    return specs


# --- a registered, simulated fleet (load_fleet / fleet_agent) -------------------------

#: The host name ``agent_commands`` gives the fleet agent's command line.
FLEET_AGENT_HOST = "fleet"


def register(data: dict[str, Any]) -> tuple[int, int]:
    """Register the fleet in ``data`` (checked): pools, their services and backend configs.

    1. Refuse pools of a backend that is configured but not simulated (a demo agent's).
    2. In one transaction: store each pool's baseline (FleetPool), a cinder-volume
       service per backend with a fresh heartbeat, a BackendConfig per backend (a
       simulated volume group, not started by ``make run``: the fleet agent serves
       it), and the pools' first report. A file loaded again replaces its pools.
    Returns (pools, backends).
    """
    from django.db import transaction
    from django.utils import timezone

    from agent.models import BackendConfig
    from portal.models import Service
    from portal.services import host_stats
    from scheduler import host_manager
    from scheduler.models import FleetPool

    check(data)
    entries = data["pools"]
    backends: dict[str, dict[str, Any]] = {}
    for entry in entries:
        host = entry["name"].partition("#")[0]
        backends.setdefault(host, entry)
    simulated = set(FleetPool.objects.values_list("host", flat=True))
    for host in backends:
        name, _, backend = host.partition("@")
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
                    host=e["name"].partition("#")[0],
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
            name, _, backend = host.partition("@")
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
    from django.db import transaction

    from agent.models import BackendConfig
    from portal.models import Service
    from scheduler.models import FleetPool, Pool

    with transaction.atomic():
        hosts = set(FleetPool.objects.values_list("host", flat=True))
        count = FleetPool.objects.count()
        host_list = list(hosts)
        for start in range(0, len(host_list), 500):
            chunk = host_list[start : start + 500]
            Pool.objects.filter(host__in=chunk).delete()
            Service.objects.filter(binary="cinder-volume", host__in=chunk).delete()
            for host in chunk:
                name, _, backend = host.partition("@")
                BackendConfig.objects.filter(host=name, backend_name=backend).delete()
        FleetPool.objects.all().delete()
    return count


def hosts() -> list[str]:
    from scheduler.models import FleetPool

    return sorted(set(FleetPool.objects.values_list("host", flat=True)))


def reports() -> list[tuple[str, str, str, dict[str, Any]]]:
    """Each simulated pool's report now: its baseline plus the volumes placed on it.

    As Cinder's manager adds its own ``allocated_capacity_gb``, the volumes the
    database holds on a pool move allocated, provisioned and free capacity and
    the volume count, so a fleet pool fills up as volumes land on it.
    """
    from django.db.models import Count, Sum

    from scheduler.models import FleetPool
    from volumes.models import Volume

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


def as_get_pools(pools: list[PoolState]) -> dict[str, Any]:
    """PoolStates as a fleet file (the inverse of ``pool_states``)."""
    return {
        "pools": [
            {
                "name": p.name,
                "availability_zone": p.availability_zone,
                "capabilities": dict(p.capabilities),
            }
            for p in pools
        ]
    }


def synthetic(count: int, seed: int = 7) -> dict[str, Any]:
    """A fleet file of ``count`` LVM-like pools to play with (``load_fleet --synthetic N``).

    60% thin; sizes 500 GiB to 16 TiB, partly used; ratios 20, 10, 1.5 and auto;
    zones nova, az2 and az3 in turn; tiers gold, silver, bronze; four backends per host.
    """
    import random

    rnd = random.Random(seed)
    zones, tiers = ("nova", "az2", "az3"), ("gold", "silver", "bronze")
    pools = []
    for i in range(count):
        thin = rnd.random() < 0.6
        total = float(rnd.choice((500, 1000, 2000, 4000, 8000, 16000)))
        used = round(total * rnd.random(), 2)
        provisioned = round(used * (rnd.uniform(1.0, 4.0) if thin else 1.0), 2)
        backend = f"lvm-{i}"
        pools.append(
            {
                "name": f"sim{i // 4}@{backend}#{backend}",
                "availability_zone": zones[i % len(zones)],
                "capabilities": {
                    "pool_name": backend,
                    "volume_backend_name": backend,
                    "vendor_name": "Open Source",
                    "driver_version": "3.0.0",
                    "storage_protocol": "iSCSI",
                    "total_capacity_gb": total,
                    "free_capacity_gb": round(total - used, 2),
                    "allocated_capacity_gb": provisioned,
                    "provisioned_capacity_gb": provisioned,
                    "reserved_percentage": rnd.choice((0, 0, 5, 10)),
                    "max_over_subscription_ratio": rnd.choice(("20.0", "10.0", "auto", "1.5")),
                    "thin_provisioning_support": thin,
                    "thick_provisioning_support": not thin,
                    "multiattach": True,
                    "total_volumes": rnd.randint(0, 400),
                    "storage_tier": tiers[rnd.randrange(len(tiers))],
                    "QoS_support": False,
                },
            }
        )
    return {"pools": pools}
