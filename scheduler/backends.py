"""Backends and pools as people see them: the pools page's rows, and disabling a backend.

Disabling is Cinder's ``cinder service-disable --reason``: the service row is
marked and the scheduler leaves the backend's pools out (host_manager), with
the reason in every trace.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone

from core.kernel.models import Service
from scheduler.capacity import INFINITE_UNKNOWN
from scheduler.host_manager import status_of
from scheduler.models import Pool
from scheduler.state import PoolState

MAX_REASON = 255
# Report fields that are numbers or bookkeeping, not capabilities a type's extra specs match
# (those are shown as capacity, or not at all).
NOT_CAPABILITIES = {
    "pool_name",
    "total_capacity_gb",
    "free_capacity_gb",
    "allocated_capacity_gb",
    "provisioned_capacity_gb",
    "reserved_percentage",
    "max_over_subscription_ratio",
    "total_volumes",
    "location_info",
    "filter_function",
    "goodness_function",
    "timestamp",
}


class BackendError(ValueError):
    pass


def set_disabled(host: str, disabled: bool, reason: str = "") -> Service:
    """Disable (with a reason) or enable the volume service ``host@backend``."""
    reason = (reason or "").strip()
    if disabled and not reason:
        raise BackendError("Say why the backend is disabled: the reason is shown in every trace.")
    if len(reason) > MAX_REASON:
        raise BackendError(f"The reason is at most {MAX_REASON} characters.")
    updated = Service.objects.filter(binary="cinder-volume", host=host).update(
        disabled=disabled, disabled_reason=reason if disabled else ""
    )
    if not updated:
        raise BackendError(f"No volume service {host}.")
    return Service.objects.get(binary="cinder-volume", host=host)


@dataclass
class PoolRow:
    name: str
    host: str
    zone: str
    status: str  # "up", "down", "disabled" or "unknown"
    reason: str
    report_age: float | None
    total: Any
    free: Any
    provisioned: float
    allocated: float
    reserved_percentage: Any
    mosr: float
    thin: bool
    virtual_free: float | None
    total_available: float | None
    used_pct: float
    provisioned_pct: float
    allocated_pct: float
    host_stats: dict
    capabilities: list[tuple[str, Any]]


def capability_items(caps: dict) -> list[tuple[str, Any]]:
    """What ``capabilities:<key>`` extra specs (CapabilitiesFilter) can match, by name."""
    return sorted((k, v) for k, v in caps.items() if k not in NOT_CAPABILITIES and v is not None)


def _pct(part: Any, whole: Any) -> float:
    try:
        part, whole = float(part), float(whole)
    except (TypeError, ValueError):
        return 0.0
    if whole <= 0:
        return 0.0
    return round(max(0.0, min(100.0, 100.0 * part / whole)), 1)


def pool_row(pool: Pool, service: Service | None, now: datetime) -> PoolRow:
    caps = pool.capabilities or {}
    status, reason = status_of(service, now)
    state = PoolState(pool.name, pool.host, pool.availability_zone, caps)
    thin = bool(caps.get("thin_provisioning_support"))
    figures = state.capacity(thin=True)
    ok = figures.state in ("ok", "no_total")
    total, free = caps.get("total_capacity_gb", 0), caps.get("free_capacity_gb", 0)
    bounded = total not in INFINITE_UNKNOWN and free not in INFINITE_UNKNOWN
    used = (float(total) - float(free)) if bounded and ok else 0
    return PoolRow(
        name=pool.name,
        host=pool.host,
        zone=service.availability_zone if service else pool.availability_zone,
        status=status,
        reason=reason,
        report_age=(now - pool.reported_at).total_seconds() if pool.reported_at else None,
        total=total,
        free=free,
        provisioned=figures.provisioned if ok else 0,
        allocated=caps.get("allocated_capacity_gb", 0) or 0,
        reserved_percentage=caps.get("reserved_percentage", 0),
        mosr=figures.mosr if ok else 1.0,
        thin=thin,
        virtual_free=figures.virtual_free if ok else None,
        total_available=figures.total_available if ok else None,
        used_pct=_pct(used, total) if bounded else 0.0,
        provisioned_pct=_pct(figures.provisioned, figures.total_available) if ok else 0.0,
        allocated_pct=_pct(caps.get("allocated_capacity_gb", 0) or 0, total) if bounded else 0.0,
        host_stats=(service.host_stats if service else {}) or {},
        capabilities=capability_items(caps),
    )


def pool_rows(query: str = "", status: str = "") -> tuple[list[PoolRow], dict[str, int]]:
    """Every pool (optionally matching ``query`` and ``status``) and the count per status."""
    now = timezone.now()
    services = {s.host: s for s in Service.objects.filter(binary="cinder-volume")}
    pools = Pool.objects.all()
    if query:
        pools = pools.filter(Q(name__icontains=query) | Q(availability_zone__icontains=query))
    rows = [pool_row(pool, services.get(pool.host), now) for pool in pools]
    counts = {"up": 0, "down": 0, "disabled": 0, "unknown": 0}
    for row in rows:
        counts[row.status] += 1
    if status:
        rows = [row for row in rows if row.status == status]
    return rows, counts
