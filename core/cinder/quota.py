"""The quota engine, with Cinder's DbQuotaDriver semantics.

``reserve`` takes every resource of a request at once; ``commit`` turns
reservations into usage; ``rollback`` drops them; ``expire`` reaps the ones
whose flow died; ``check`` finds (and with ``sync`` repairs) drifted usage.

Race-free on PostgreSQL and on SQLite:
- usage rows are created before anything is locked, and the unique
  constraint lets exactly one of two racing first reservations insert a row
  (Cinder bug #1484343: ``FOR UPDATE`` cannot lock a row that is not there);
- every writer locks usage rows in one order (by resource name) with
  ``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite the IMMEDIATE
  transactions configured in settings hold the write lock from BEGIN;
- a deadlock or serialisation failure is retried, as Cinder retries.

Each change nudges the project's quota group on the channel layer, so open
create forms redraw their limit bars.
"""

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Sum
from django.utils import timezone

from core.cinder import exceptions
from core.cinder.models import Snapshot, Volume, VolumeType
from core.cinder.quota_models import QuotaClass, QuotaLimit, QuotaUsage, Reservation
from core.kernel import events, plain_sql

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
# Simple limits are checked (limit_check), never reserved and never used.
SIMPLE_RESOURCES = {"per_volume_gigabytes"}
PER_TYPE_PREFIXES = ("volumes", "gigabytes", "snapshots")
DB_MAX_INT = 2147483647
RETRIES = 5
# Errors worth a retry: PostgreSQL's deadlock / serialisation failures, SQLite's busy lock.
RETRYABLE = ("deadlock", "could not serialize", "database is locked")


def quota_group(project_id) -> str:
    """The channel group told when a project's quota usage changes."""
    return f"quota-{project_id}"


def nudge(project_ids: Iterable) -> None:
    """Tell open create forms of these projects to redraw, once committed."""
    ids = sorted({str(p) for p in project_ids})

    def send() -> None:
        for project_id in ids:
            events.send(quota_group(project_id), {"type": "quota.changed"})

    if ids:
        transaction.on_commit(send)


def _retrying[T](func: Callable[[], T]) -> T:
    """Run ``func`` (one transaction), retrying deadlocks as Cinder's db layer does."""
    for attempt in range(1, RETRIES + 1):
        try:
            return func()
        except OperationalError as error:
            if attempt == RETRIES or not any(s in str(error).lower() for s in RETRYABLE):
                raise
            LOG.warning("Quota transaction retried after: %s", error)
            time.sleep(0.01 * attempt)
    raise AssertionError("unreachable")


# -- resources and limits ---------------------------------------------------


def type_resources(type_name: str) -> list[str]:
    return [f"{prefix}_{type_name}" for prefix in PER_TYPE_PREFIXES]


def rename_type_resources(old_type_name: str, new_type_name: str) -> None:
    """A renamed volume type keeps its per-type limits, class defaults and usage
    (Cinder's update_quota_resource)."""
    for old, new in zip(type_resources(old_type_name), type_resources(new_type_name), strict=True):
        for model in (QuotaLimit, QuotaClass, QuotaUsage, Reservation):
            model.objects.filter(resource=old).update(resource=new)


def resource_names() -> list[str]:
    """Every resource, rebuilt on each call as Cinder does (types come and go)."""
    names = list(DEFAULT_LIMITS)
    for type_name in VolumeType.objects.order_by("name").values_list("name", flat=True):
        names.extend(type_resources(type_name))
    return names


def builtin_default(resource: str) -> int:
    """The config default: Cinder's ``quota_*`` options; per-type resources are unlimited."""
    return DEFAULT_LIMITS.get(resource, -1)


def _overridden(limits: dict[str, int], rows) -> dict[str, int]:
    """``limits`` with each row's ``hard_limit`` for a resource it knows."""
    for resource, hard_limit in rows.values_list("resource", "hard_limit"):
        if resource in limits:
            limits[resource] = hard_limit
    return limits


def default_limits() -> dict[str, int]:
    limits = {name: builtin_default(name) for name in resource_names()}
    return _overridden(limits, QuotaClass.objects.filter(class_name="default"))


def class_limits(class_name: str) -> dict[str, int]:
    """A quota class's limits: its own rows over the defaults (the ``default`` class's)."""
    return _overridden(default_limits(), QuotaClass.objects.filter(class_name=class_name))


def set_class_limits(class_name: str, limits: dict[str, int]) -> None:
    """Cinder's quota_class_update-or-create for each resource given."""
    with transaction.atomic():
        for resource, hard_limit in limits.items():
            QuotaClass.objects.update_or_create(
                class_name=class_name, resource=resource, defaults={"hard_limit": hard_limit}
            )
    nudge(QuotaUsage.objects.values_list("project_id", flat=True).distinct())


def get_limits(project_id: str) -> dict[str, int]:
    """Project override, else the default class, else the built-in default."""
    return _overridden(default_limits(), QuotaLimit.objects.filter(project_id=project_id))


def ensure_default_class() -> int:
    """Seed the ``default`` class with every resource, as Cinder's first migration does.

    Returns how many rows were added; existing rows (edited defaults) are kept.
    """
    added = 0
    for resource in resource_names():
        _, created = QuotaClass.objects.get_or_create(
            class_name="default",
            resource=resource,
            defaults={"hard_limit": builtin_default(resource)},
        )
        added += created
    return added


def validate_limit(project_id: str | None, resource: str, hard_limit: int) -> None:
    """Cinder's checks on ``PUT os-quota-sets``: known key, -1..DB_MAX_INT, not below usage."""
    if resource not in resource_names():
        raise exceptions.InvalidInput(reason=f"Bad key(s) in quota set: {resource}")
    if not -1 <= hard_limit <= DB_MAX_INT:
        raise exceptions.InvalidInput(
            reason=f"Quota limit {hard_limit} for {resource} must be between -1 and {DB_MAX_INT}."
        )
    if project_id is None or hard_limit == -1 or resource in SIMPLE_RESOURCES:
        return
    usage = QuotaUsage.objects.filter(project_id=project_id, resource=resource).first()
    used = usage.total if usage else 0
    if hard_limit < used:
        raise exceptions.InvalidInput(
            reason=(
                f"Quota {resource} limit must be equal or greater than existing resources. "
                f"Current usage is {used} and the requested limit is {hard_limit}."
            )
        )


def set_limit(project_id: str, resource: str, hard_limit: int) -> None:
    """Override one of a project's limits (validated as the os-quota-sets API does)."""
    validate_limit(project_id, resource, hard_limit)
    QuotaLimit.objects.update_or_create(
        project_id=project_id, resource=resource, defaults={"hard_limit": hard_limit}
    )
    nudge([project_id])


def add_volume_type_opts(deltas: dict[str, int], type_name: str | None) -> dict[str, int]:
    """Copy volumes/gigabytes/snapshots deltas onto the per-type resources."""
    result = dict(deltas)
    if type_name:
        for prefix in PER_TYPE_PREFIXES:
            if prefix in deltas:
                result[f"{prefix}_{type_name}"] = deltas[prefix]
    return result


def volume_deltas(size: int, type_name: str | None) -> dict[str, int]:
    """What one volume of ``size`` GiB counts against: volumes, gigabytes, and per type."""
    return add_volume_type_opts({"volumes": 1, "gigabytes": size}, type_name)


def snapshot_deltas(size: int, type_name: str | None) -> dict[str, int]:
    """What one snapshot of a ``size`` GiB volume counts against."""
    return add_volume_type_opts({"snapshots": 1, "gigabytes": size}, type_name)


def actual_in_use(project_id: str, resource: str) -> int:
    """What usage should be, counted from the resources themselves (Cinder's _sync_*).

    Every volume and snapshot with ``use_quota`` counts, in any status (an
    ``error`` volume keeps its quota until deleted); ``gigabytes`` covers
    volume and snapshot sizes, as Cinder's does. Resources Cinderlab keeps no
    rows for (backups, groups) count zero.
    """
    prefix, _, type_name = resource.partition("_")
    if prefix not in ("volumes", "gigabytes", "snapshots"):
        return 0
    volumes = Volume.objects.filter(project_id=project_id, use_quota=True)
    snapshots = Snapshot.objects.filter(project_id=project_id, use_quota=True)
    if type_name:
        volumes = volumes.filter(volume_type__name=type_name)
        snapshots = snapshots.filter(volume_type__name=type_name)
    if prefix == "volumes":
        return volumes.count()
    if prefix == "snapshots":
        return snapshots.count()
    total = volumes.aggregate(total=Sum("size"))["total"] or 0
    return total + (snapshots.aggregate(total=Sum("volume_size"))["total"] or 0)


def limit_check(project_id: str, limits: dict[str, int] | None = None, **values: int) -> None:
    """Cinder's limit_check of simple resources (``limits``: the project's, if already read)."""
    limits = limits if limits is not None else get_limits(project_id)
    for resource, value in values.items():
        if value < 0:
            raise exceptions.InvalidInput(reason=f"{resource} must not be negative")
        limit = limits.get(resource, -1)
        if limit >= 0 and value > limit:
            raise exceptions.VolumeSizeExceedsLimit(
                size=value, limit=limit, name=resource, requested=value
            )


# -- reserve / commit / rollback / expire -------------------------------------


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


@dataclass
class _Missing:
    resources: list[str]  # no usage row yet: the project's first reservation of them


@dataclass
class _Refused:
    overs: list[str]
    usages: dict[str, tuple[int, int]]


def _reserve_locked(
    project_id: str, deltas: dict[str, int], limits: dict[str, int], expires_at
) -> list[str] | _Refused | _Missing:
    """One transaction: lock the usage rows in order, check, write the reservations."""
    resources = sorted(deltas)
    with transaction.atomic():
        locked = (
            plain_sql.by_key(QuotaUsage, {"project": project_id, "resource": r}, for_update=True)
            for r in resources  # in resource order, as every locker of usage rows
        )
        usages = {usage.resource: usage for usage in locked if usage is not None}
        missing = [resource for resource in resources if resource not in usages]
        if missing:
            return _Missing(missing)
        for resource in resources:
            usage = usages[resource]
            if usage.in_use < 0:  # Cinder's refresh: a negative usage is re-counted
                usage.in_use = actual_in_use(project_id, resource)
                usage.save(update_fields=["in_use", "updated_at"])
            if deltas[resource] > 0 and usage.total + deltas[resource] > DB_MAX_INT:
                raise exceptions.QuotaError(code="QuotaUsageOverflow")
        overs = [
            resource
            for resource in resources
            if limits[resource] >= 0
            and deltas[resource] >= 0
            and limits[resource] < deltas[resource] + usages[resource].total
        ]
        if overs:
            return _Refused(overs, {r: (usages[r].in_use, usages[r].reserved) for r in resources})
        reservations = [
            Reservation(
                usage=usages[resource],
                project_id=project_id,
                resource=resource,
                delta=deltas[resource],
                expire=expires_at,
            )
            for resource in resources
        ]
        plain_sql.insert(*reservations)
        grown = [usages[r] for r in resources if deltas[r] > 0]
        for usage in grown:
            usage.reserved += deltas[usage.resource]
        _save_usages(grown, ["reserved"])
        nudge([project_id])
        return [str(reservation.id) for reservation in reservations]


def _save_usages(usages: list[QuotaUsage], fields: list[str]) -> None:
    """Write the changed usage rows (locked by the caller): one plain UPDATE, run for each
    row. Django's bulk_update builds a CASE per field and row (3.5 times as long as an
    update per row), and an update per row builds its SQL each time, inside the lock."""
    now = timezone.now()
    for usage in usages:
        usage.updated_at = now
    columns = [*fields, "updated_at"]
    rows = [([getattr(usage, name) for name in columns], [usage.pk]) for usage in usages]
    plain_sql.update_many(QuotaUsage, ["id"], columns, rows)


def reserve(
    project_id: str,
    deltas: dict[str, int],
    expire: timedelta | None = None,
    limits: dict[str, int] | None = None,
) -> list[str]:
    """Reserve all ``deltas`` at once or none; returns the reservation ids.

    Over quota raises Cinder's error for the first over resource, in sorted
    order (so ``gigabytes`` wins over ``volumes``), and writes nothing.
    ``limits``: the project's, if the caller has just read them.
    """
    limits = limits if limits is not None else get_limits(project_id)
    unknown = sorted(set(deltas) - set(limits))
    if unknown:
        raise exceptions.InvalidInput(reason=f"Unknown quota resources {unknown}.")
    expires_at = timezone.now() + (expire or timedelta(seconds=settings.RESERVATION_EXPIRE))
    for _ in range(3):  # the rows are made at most once, unless removed meanwhile
        result = _retrying(lambda: _reserve_locked(project_id, deltas, limits, expires_at))
        if not isinstance(result, _Missing):
            break
        _ensure_usage_rows(project_id, result.resources)
    else:
        raise exceptions.QuotaError(code="QuotaUsageMissing")
    if isinstance(result, _Refused):
        raise_over_quota(result.overs, limits, result.usages, deltas)
    return result


def raise_over_quota(overs, limits, usages, deltas) -> None:
    """Cinder's process_reserve_over_quota: the first over resource decides.

    The error also carries ``in_use``, ``reserved`` and ``requested`` so a
    form can say exactly why (see :func:`over_quota_message`).
    """
    for over in sorted(overs):
        in_use, reserved = usages[over]
        facts = {
            "name": over,
            "limit": limits[over],
            "in_use": in_use,
            "reserved": reserved,
            "requested": deltas[over],
        }
        if "gigabytes" in over:
            raise exceptions.VolumeSizeExceedsAvailableQuota(
                quota=limits[over], consumed=in_use + reserved, **facts
            )
        if "snapshots" in over:
            raise exceptions.SnapshotLimitExceeded(allowed=limits[over], **facts)
        if "volumes" in over:
            raise exceptions.VolumeLimitExceeded(allowed=limits[over], **facts)
    raise exceptions.UnexpectedOverQuota(name=", ".join(overs))


def over_quota_message(error: exceptions.QuotaError) -> str:
    """Cinder's message, then which resource, its limit, what is in use and what was asked."""
    text = f"{type(error).__name__}: {error}"
    facts = error.kwargs
    if "name" not in facts or "requested" not in facts:
        return text
    unit = " GiB" if "gigabytes" in facts["name"] else ""
    detail = f"{facts['name']}: limit {facts['limit']}{unit}"
    if "in_use" in facts:
        detail += f", {facts['in_use']}{unit} in use, {facts['reserved']}{unit} reserved"
    return f"{text} ({detail}, {facts['requested']}{unit} requested)"


def _finish_locked(reservation_ids: list[str], apply_in_use: bool) -> None:
    with transaction.atomic():
        # The reservations locked in id order, then their usage rows in resource order (as
        # reserve locks them), each a read by key.
        found = (
            plain_sql.by_key(Reservation, {"id": rid}, for_update=True)
            for rid in sorted(reservation_ids)
        )
        reservations = sorted((r for r in found if r), key=lambda r: (r.resource, str(r.id)))
        if not reservations:
            return  # already committed, rolled back or expired
        usages: dict[int, QuotaUsage] = {}
        for reservation in reservations:
            if reservation.usage_id not in usages:
                usages[reservation.usage_id] = plain_sql.by_key(
                    QuotaUsage, {"id": reservation.usage_id}, for_update=True
                )
        for reservation in reservations:
            usage = usages[reservation.usage_id]
            if reservation.delta > 0:
                usage.reserved -= min(reservation.delta, usage.reserved)
            if apply_in_use:
                usage.in_use = max(0, usage.in_use + reservation.delta)
        _save_usages(list(usages.values()), ["in_use", "reserved"])
        plain_sql.delete_many(Reservation, ["id"], [[r.id] for r in reservations])
        nudge({r.project_id for r in reservations})


def _finish(reservation_ids: Iterable[str], apply_in_use: bool) -> None:
    ids = [str(i) for i in reservation_ids]
    _retrying(lambda: _finish_locked(ids, apply_in_use))


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


# -- drift: cinder-manage quota check / sync ----------------------------------


@dataclass(frozen=True)
class Discrepancy:
    project_id: str
    resource: str
    field: str  # "usage" (in_use) or "reserved"
    saved: int
    actual: int

    def describe(self, fixed: bool = False) -> str:
        """Cinder's wording: ``<res>: invalid usage saved=X actual=Y[ - fixed]``."""
        suffix = " - fixed" if fixed else ""
        return (
            f"{self.resource}: invalid {self.field} saved={self.saved} actual={self.actual}{suffix}"
        )


def _check_project_locked(project_id: str, sync: bool) -> list[Discrepancy]:
    found = []
    with transaction.atomic():
        usages = list(
            QuotaUsage.objects.select_for_update()
            .filter(project_id=project_id)
            .exclude(resource__in=SIMPLE_RESOURCES)
            .order_by("resource")
        )
        reserved = dict(
            Reservation.objects.filter(project_id=project_id, delta__gt=0)
            .values_list("usage_id")
            .annotate(total=Sum("delta"))
        )
        for usage in usages:
            actual_used = actual_in_use(project_id, usage.resource)
            actual_reserved = reserved.get(usage.id, 0)
            if usage.in_use != actual_used:
                found.append(
                    Discrepancy(project_id, usage.resource, "usage", usage.in_use, actual_used)
                )
            if usage.reserved != actual_reserved:
                found.append(
                    Discrepancy(
                        project_id, usage.resource, "reserved", usage.reserved, actual_reserved
                    )
                )
            if sync and (usage.in_use, usage.reserved) != (actual_used, actual_reserved):
                usage.in_use, usage.reserved = actual_used, actual_reserved
                usage.save(update_fields=["in_use", "reserved", "updated_at"])
        if sync and found:
            nudge([project_id])
    return found


def check(project_id: str | None = None, sync: bool = False) -> list[Discrepancy]:
    """Compare saved usage with the volumes and live reservations; ``sync`` repairs.

    Without a project, every project that has usage rows is checked, each in
    its own write transaction (so the fix persists: Cinder bugs #2047693/#2104322).
    """
    if project_id is None:
        projects = sorted(set(QuotaUsage.objects.values_list("project_id", flat=True)))
    else:
        projects = [project_id]
    found: list[Discrepancy] = []
    for pid in projects:
        found.extend(_retrying(lambda pid=pid: _check_project_locked(pid, sync)))
    return found
