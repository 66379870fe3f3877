"""Small fleets for the scheduler's database and integration tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from core.kernel.models import Service
from scheduler.models import Pool


def lvm_caps(total: float, free: float, thin: bool = False, **extra: Any) -> dict[str, Any]:
    """One LVM-like pool's capabilities, as an agent reports them."""
    return {
        "volume_backend_name": "LVM",
        "vendor_name": "Open Source",
        "driver_version": "3.0.0",
        "storage_protocol": "iSCSI",
        "total_capacity_gb": total,
        "free_capacity_gb": free,
        "provisioned_capacity_gb": total - free,
        "allocated_capacity_gb": total - free,
        "reserved_percentage": 0,
        "max_over_subscription_ratio": "20.0",
        "thin_provisioning_support": thin,
        "thick_provisioning_support": not thin,
        "multiattach": True,
        "total_volumes": 0,
        **extra,
    }


def backend(
    host: str,
    caps: dict[str, Any],
    zone: str = "nova",
    heartbeat_age: float | None = 0.0,
    disabled_reason: str = "",
) -> str:
    """A volume service and its one pool, as a report would leave them; returns the pool name."""
    beat = None if heartbeat_age is None else timezone.now() - timedelta(seconds=heartbeat_age)
    Service.objects.update_or_create(
        binary="cinder-volume",
        host=host,
        defaults={
            "availability_zone": zone,
            "heartbeat_at": beat,
            "disabled": bool(disabled_reason),
            "disabled_reason": disabled_reason,
        },
    )
    name = f"{host}#{host.partition('@')[2]}"
    Pool.objects.update_or_create(
        name=name, defaults={"host": host, "availability_zone": zone, "capabilities": caps}
    )
    return name


def remove(*hosts: str) -> None:
    Pool.objects.filter(host__in=hosts).delete()
    Service.objects.filter(binary="cinder-volume", host__in=hosts).delete()


def fleet_file(count: int, zone: str = "nova", prefix: str = "sim") -> dict[str, Any]:
    """A get_pools?detail=True document with ``count`` thick pools of growing size."""
    return {
        "pools": [
            {
                "name": f"{prefix}{i}@lvm-{i}#lvm-{i}",
                "availability_zone": zone,
                "capabilities": lvm_caps(100.0 + i, 50.0 + i, storage_tier="sim"),
            }
            for i in range(count)
        ]
    }
