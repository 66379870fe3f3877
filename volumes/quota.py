"""The quota engine, with Cinder's DbQuotaDriver semantics.

``reserve`` takes every resource of a request at once; ``commit`` turns
reservations into usage; ``rollback`` drops them; ``expire`` reaps the ones
whose flow died. Race-free on PostgreSQL (row locks taken in a fixed order)
and on SQLite (IMMEDIATE transactions hold the write lock from BEGIN).
"""

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from volumes import exceptions
from volumes.quota_models import QuotaClass, QuotaLimit, QuotaUsage, Reservation

LOG = logging.getLogger(__name__)

DEFAULT_LIMITS = {
    "volumes": 10,
    "snapshots": 10,
    "gigabytes": 1000,
    "backups": 10,
    "backup_gigabytes": 1000,
    "groups": 10,
    "per_volume_gigabytes": -1,
}
# Simple limits are checked (limit_check), never reserved.
SIMPLE_RESOURCES = {"per_volume_gigabytes"}
PER_TYPE_PREFIXES = ("volumes", "gigabytes", "snapshots")


def type_resources(type_name: str) -> list[str]:
    return [f"{prefix}_{type_name}" for prefix in PER_TYPE_PREFIXES]


def resource_names() -> list[str]:
    """Every resource, rebuilt on each call as Cinder does (types come and go)."""
    from volumes.models import VolumeType

    names = list(DEFAULT_LIMITS)
    for type_name in VolumeType.objects.order_by("name").values_list("name", flat=True):
        names.extend(type_resources(type_name))
    return names


def default_limits() -> dict[str, int]:
    limits = {name: DEFAULT_LIMITS.get(name, -1) for name in resource_names()}
    for row in QuotaClass.objects.filter(class_name="default"):
        if row.resource in limits:
            limits[row.resource] = row.hard_limit
    return limits


def get_limits(project_id: str) -> dict[str, int]:
    """Project override, else the default class, else the built-in default."""
    limits = default_limits()
    for row in QuotaLimit.objects.filter(project_id=project_id):
        if row.resource in limits:
            limits[row.resource] = row.hard_limit
    return limits


def add_volume_type_opts(deltas: dict[str, int], type_name: str | None) -> dict[str, int]:
    """Copy volumes/gigabytes/snapshots deltas onto the per-type resources."""
    result = dict(deltas)
    if type_name:
        for prefix in PER_TYPE_PREFIXES:
            if prefix in deltas:
                result[f"{prefix}_{type_name}"] = deltas[prefix]
    return result


def actual_in_use(project_id: str, resource: str) -> int:
    """What usage should be, counted from the resources themselves (Cinder's _sync_*)."""
    from volumes.models import Volume

    volumes = Volume.objects.filter(project_id=project_id, use_quota=True)
    prefix, _, type_name = resource.partition("_")
    if resource.startswith("volumes"):
        qs = volumes.filter(volume_type__name=type_name) if type_name else volumes
        return qs.count()
    if resource.startswith("gigabytes"):
        qs = volumes.filter(volume_type__name=type_name) if type_name else volumes
        return qs.aggregate(total=Sum("size"))["total"] or 0
    return 0


def limit_check(project_id: str, **values: int) -> None:
    limits = get_limits(project_id)
    for resource, value in values.items():
        if value < 0:
            raise exceptions.InvalidInput(reason=f"{resource} must not be negative")
        limit = limits.get(resource, -1)
        if limit >= 0 and value > limit:
            raise exceptions.VolumeSizeExceedsLimit(size=value, limit=limit)


def _ensure_usage_rows(project_id: str, resources: Iterable[str]) -> None:
    """Create missing usage rows in their own transaction, before locking.

    Two first reservations racing here both try to insert; the unique
    constraint lets exactly one win and the other simply finds the row.
    """
    existing = set(
        QuotaUsage.objects.filter(project_id=project_id, resource__in=resources).values_list(
            "resource", flat=True
        )
    )
    for resource in resources:
        if resource in existing:
            continue
        try:
            with transaction.atomic():
                QuotaUsage.objects.create(
                    project_id=project_id,
                    resource=resource,
                    in_use=actual_in_use(project_id, resource),
                )
        except IntegrityError:
            pass  # another request created it first: fine


def reserve(project_id: str, deltas: dict[str, int], expire: timedelta | None = None) -> list[str]:
    """Reserve all ``deltas`` at once or none; returns the reservation ids."""
    limits = get_limits(project_id)
    unknown = sorted(set(deltas) - set(limits))
    if unknown:
        raise exceptions.InvalidInput(reason=f"Unknown quota resources {unknown}.")
    resources = sorted(deltas)
    _ensure_usage_rows(project_id, resources)
    expires_at = timezone.now() + (expire or timedelta(seconds=settings.RESERVATION_EXPIRE))
    with transaction.atomic():
        usages = {
            usage.resource: usage
            for usage in QuotaUsage.objects.select_for_update()
            .filter(project_id=project_id, resource__in=resources)
            .order_by("resource")
        }
        overs = [
            resource
            for resource in resources
            if limits[resource] >= 0
            and deltas[resource] >= 0
            and limits[resource] < deltas[resource] + usages[resource].total
        ]
        if overs:
            snapshot = {r: (usages[r].in_use, usages[r].reserved) for r in resources}
        else:
            ids = []
            for resource in resources:
                usage, delta = usages[resource], deltas[resource]
                ids.append(
                    str(
                        Reservation.objects.create(
                            usage=usage,
                            project_id=project_id,
                            resource=resource,
                            delta=delta,
                            expire=expires_at,
                        ).id
                    )
                )
                if delta > 0:
                    usage.reserved += delta
                    usage.save(update_fields=["reserved", "updated_at"])
            return ids
    raise_over_quota(overs, limits, snapshot, deltas)


def raise_over_quota(overs, limits, usages, deltas) -> None:
    """Cinder's process_reserve_over_quota: the first over resource decides."""
    for over in sorted(overs):
        in_use, reserved = usages[over]
        if "gigabytes" in over:
            raise exceptions.VolumeSizeExceedsAvailableQuota(
                name=over, requested=deltas[over], quota=limits[over], consumed=in_use + reserved
            )
        if "snapshots" in over:
            raise exceptions.SnapshotLimitExceeded(allowed=limits[over], name=over)
        if "volumes" in over:
            raise exceptions.VolumeLimitExceeded(allowed=limits[over], name=over)
    raise exceptions.UnexpectedOverQuota(name=", ".join(overs))


def _finish(reservation_ids: Iterable[str], apply_in_use: bool) -> None:
    with transaction.atomic():
        reservations = list(
            Reservation.objects.select_for_update()
            .filter(id__in=list(reservation_ids))
            .order_by("resource")
        )
        usage_ids = sorted({r.usage_id for r in reservations})
        usages = {u.id: u for u in QuotaUsage.objects.select_for_update().filter(id__in=usage_ids)}
        for reservation in reservations:
            usage = usages[reservation.usage_id]
            if reservation.delta > 0:
                usage.reserved -= min(reservation.delta, usage.reserved)
            if apply_in_use:
                usage.in_use = max(0, usage.in_use + reservation.delta)
        for usage in usages.values():
            usage.save(update_fields=["in_use", "reserved", "updated_at"])
        Reservation.objects.filter(id__in=[r.id for r in reservations]).delete()


def commit(reservation_ids: Iterable[str]) -> None:
    """Reservations become usage; a reservation already gone is a no-op."""
    _finish(reservation_ids, apply_in_use=True)


def rollback(reservation_ids: Iterable[str]) -> None:
    """Give reservations back without touching in_use."""
    _finish(reservation_ids, apply_in_use=False)


def release(project_id: str, deltas: dict[str, int]) -> None:
    """Give usage back (delete, or a revert after commit): a negative reserve, committed."""
    negative = {resource: -abs(delta) for resource, delta in deltas.items()}
    commit(reserve(project_id, negative))


def expire() -> int:
    """Roll back every reservation past its expiry; returns how many."""
    stale = list(Reservation.objects.filter(expire__lt=timezone.now()).values_list("id", flat=True))
    if stale:
        LOG.warning("Expiring %d stale quota reservations", len(stale))
        rollback(stale)
    return len(stale)


def usage_summary(project_id: str) -> dict[str, dict[str, int]]:
    """``{resource: {"limit", "in_use", "reserved"}}`` as os-quota-sets shows with usage."""
    limits = get_limits(project_id)
    usages = {u.resource: u for u in QuotaUsage.objects.filter(project_id=project_id)}
    return {
        resource: {
            "limit": limit,
            "in_use": usages[resource].in_use if resource in usages else 0,
            "reserved": usages[resource].reserved if resource in usages else 0,
        }
        for resource, limit in limits.items()
    }
