"""Fleet files: Cinder's ``GET /scheduler-stats/get_pools?detail=True`` output, read strictly.

``{"pools": [{"name": "host@backend#pool", "capabilities": {...}}]}``; a pool
may also carry ``"availability_zone"`` (default ``nova``). Used by
``manage.py schedule`` (decide over a file) and ``manage.py load_fleet``
(register a simulated fleet). Reading only: nothing here touches the database.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.kernel.hosts import extract_host
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
    """The file's pools as the decision core takes them (a zone defaults to "nova")."""
    return [
        PoolState(
            name=entry["name"],
            host=extract_host(entry["name"], "backend"),
            availability_zone=entry.get("availability_zone") or DEFAULT_AVAILABILITY_ZONE,
            capabilities=dict(entry.get("capabilities") or {}),
        )
        for entry in data.get("pools", [])
    ]


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
