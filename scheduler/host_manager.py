"""Turns stored pool reports and service heartbeats into plain PoolState values.

The pure filters and weighers never see the ORM; this module is the seam.
"""

from django.db import transaction
from django.utils import timezone

from portal.models import Service
from scheduler.decision import PoolState, consume_from_volume
from scheduler.models import Pool


def backend_of(pool_name: str) -> str:
    return pool_name.partition("#")[0]


def pool_states() -> tuple[list[PoolState], dict[str, str]]:
    """Pools of live, enabled backends, and why each other pool is out."""
    now = timezone.now()
    services = {s.host: s for s in Service.objects.filter(binary="cinder-volume")}
    usable, excluded = [], {}
    for pool in Pool.objects.all():
        service = services.get(pool.host)
        if service is None:
            excluded[pool.name] = "no volume service registered for this backend"
        elif service.disabled:
            excluded[pool.name] = f"backend disabled: {service.disabled_reason or 'no reason'}"
        elif not service.is_up(now):
            age = service.heartbeat_age(now)
            seen = "never" if age is None else f"{age:.0f} s ago"
            excluded[pool.name] = f"backend down: last heartbeat {seen}"
        else:
            usable.append(
                PoolState(
                    name=pool.name,
                    host=pool.host,
                    availability_zone=service.availability_zone,
                    capabilities=pool.capabilities,
                )
            )
    return usable, excluded


def consume(pool_name: str, size: int) -> None:
    """Take ``size`` GiB off a pool until its next report (negative gives it back)."""
    with transaction.atomic():
        pool = Pool.objects.select_for_update().filter(name=pool_name).first()
        if pool is None:
            return
        caps = pool.capabilities
        thin = bool(caps.get("thin_provisioning_support")) and not caps.get(
            "thick_provisioning_support"
        )
        pool.capabilities = consume_from_volume(caps, size, thin)
        pool.save(update_fields=["capabilities", "updated_at"])


def update_from_report(host: str, availability_zone: str, capabilities: dict, reported_at) -> None:
    """Store a backend's report: one row per pool, backend fields merged in."""
    backend_fields = {k: v for k, v in capabilities.items() if k != "pools"}
    pools = capabilities.get("pools") or [
        dict(pool_name=backend_fields.get("volume_backend_name", "pool"))
    ]
    names = []
    with transaction.atomic():
        for pool in pools:
            name = f"{host}#{pool['pool_name']}"
            names.append(name)
            merged = {**backend_fields, **pool}
            row = Pool.objects.select_for_update().filter(name=name).first()
            if row is not None and row.reported_at > reported_at:
                continue  # an older report arriving late must not win
            Pool.objects.update_or_create(
                name=name,
                defaults={
                    "host": host,
                    "availability_zone": availability_zone,
                    "capabilities": merged,
                    "reported_at": reported_at,
                },
            )
        Pool.objects.filter(host=host).exclude(name__in=names).delete()
