"""FilterScheduler: Cinder's retry bookkeeping around the pure decision core."""

import logging

from django.conf import settings

from core.cinder.exceptions import NoValidBackend
from core.kernel import plain_sql
from core.kernel.hosts import extract_host
from scheduler import host_manager, trace
from scheduler.decision import decide
from scheduler.models import DecisionTrace
from scheduler.state import Options, Request

LOG = logging.getLogger(__name__)


def options() -> Options:
    return Options(
        filters=list(settings.SCHEDULER_DEFAULT_FILTERS),
        weighers=list(settings.SCHEDULER_DEFAULT_WEIGHERS),
        capacity_weight_multiplier=settings.CAPACITY_WEIGHT_MULTIPLIER,
        allocated_capacity_weight_multiplier=settings.ALLOCATED_CAPACITY_WEIGHT_MULTIPLIER,
        volume_number_multiplier=settings.VOLUME_NUMBER_MULTIPLIER,
        goodness_weight_multiplier=settings.GOODNESS_WEIGHT_MULTIPLIER,
        max_over_subscription_ratio=settings.MAX_OVER_SUBSCRIPTION_RATIO,
        trace=True,
    )


def populate_retry(filter_properties: dict, volume_id: str) -> dict | None:
    """Count this attempt; past ``scheduler_max_attempts`` there is no valid backend."""
    max_attempts = settings.SCHEDULER_MAX_ATTEMPTS
    retry = filter_properties.pop("retry", None)
    if max_attempts == 1:
        return None  # rescheduling disabled
    if retry is None:
        retry = {"num_attempts": 1, "backends": [], "hosts": []}
    else:
        retry["num_attempts"] += 1
    filter_properties["retry"] = retry
    exc = retry.pop("exc", None)
    if exc:
        last = retry["backends"][-1] if retry["backends"] else "?"
        LOG.warning("Error scheduling %s from last vol-service: %s : %s", volume_id, last, exc)
    if retry["num_attempts"] > max_attempts:
        raise NoValidBackend(
            reason=f"Exceeded max scheduling attempts {max_attempts} for resource {volume_id}"
        )
    return retry


def attempt_number(filter_properties: dict) -> int:
    retry = filter_properties.get("retry") or {}
    return retry.get("num_attempts", 0) + 1


def schedule_create_volume(request_spec: dict, filter_properties: dict) -> tuple[str, str]:
    """Choose a pool, record why, consume it virtually; returns the pool and its zone."""
    volume_id = request_spec["volume_id"]
    size = int(request_spec["volume_properties"]["size"])
    previous = (filter_properties.get("retry") or {}).get("backends") or []
    if previous:
        # Give the capacity consumed by the failed attempt back (Cinder does the same).
        host_manager.consume(previous[-1], -size)
    retry = populate_retry(filter_properties, volume_id)
    attempt = retry["num_attempts"] if retry else 1
    pools, excluded = host_manager.pool_states()
    pinned = request_spec.get("resource_backend")
    if pinned:
        # A snapshot or clone is made where its source lives (Cinder's _schedule drops
        # candidates whose backend differs from request_spec['resource_backend']).
        whole = "#" in pinned  # pinned to one pool, or to any pool of a backend

        def place(pool) -> str:
            return pool.name if whole else extract_host(pool.name, "backend")

        for pool in [p for p in pools if place(p) != pinned]:
            excluded[pool.name] = f"not the source's backend ({pinned})"
        pools = [p for p in pools if place(p) == pinned]
    zones = list(request_spec.get("availability_zones") or [])
    properties = request_spec.get("volume_properties") or {}
    req = Request(
        size=size,
        extra_specs=(request_spec.get("volume_type") or {}).get("extra_specs") or {},
        # Cinder's AvailabilityZoneFilter: request_spec['availability_zones'] when
        # set, else resource_properties['availability_zone'].
        availability_zone=properties.get("availability_zone") or None,
        availability_zones=zones or None,
        retry=retry,
        volume_id=volume_id,
    )
    decision = decide(pools, req, options())
    if decision.chosen is None and excluded:
        decision.reason = excluded_reason(excluded, decision.reason if pools else None)
    _record(decision, excluded, req, attempt, "create", zones)
    if decision.chosen is None:
        total = len(pools) + len(excluded)
        reason = decision.reason or f"No pool passed the filters ({total} known)."
        raise NoValidBackend(reason=reason.removeprefix("No valid backend was found. "))
    host_manager.consume(decision.chosen, size)
    if retry is not None:
        retry["backends"].append(decision.chosen)
        retry["hosts"].append(decision.chosen)
    chosen_zone = next(p.availability_zone for p in pools if p.name == decision.chosen)
    return decision.chosen, chosen_zone


def excluded_reason(excluded: dict[str, str], reason: str | None = None) -> str:
    """NoValidBackend's reason, naming the pools left out before filtering (down, disabled).

    ``reason`` is the filters' own explanation when some pools were filtered.
    """
    groups = trace.group_reasons(excluded)
    why = "; ".join(
        f"{g['example'] if g['count'] == 1 else g['reason']} ({g['count']})" for g in groups[:3]
    )
    if reason:
        return f"{reason} Left out before filtering: {len(excluded)} ({why})."
    pools = "the only pool is" if len(excluded) == 1 else f"all {len(excluded)} pools are"
    return f"No valid backend was found. No weighed backends available: {pools} out: {why}"


def _record(decision, excluded: dict, req: Request, attempt: int, operation: str, zones) -> None:
    """Keep why (bounded for big fleets: scheduler/trace.py keeps all below FULL_TRACE_POOLS)."""
    plain_sql.insert(
        DecisionTrace(
            volume_id=req.volume_id,
            attempt=attempt,
            operation=operation,
            request={"size": req.size, "extra_specs": req.extra_specs, "availability_zones": zones},
            decision=trace.record(decision, excluded),
            chosen=decision.chosen or "",
        )
    )


def backend_passes_filters(backend: str, req: Request, operation: str) -> str:
    """Cinder's ``backend_passes_filters``: filter and weigh every pool, then the volume's own
    pool ``backend`` must be among those that passed. Returns it; raises NoValidBackend.

    An extend asks this with ``req.size`` the growth only (the CapacityFilter's
    ``new_size - size``)."""
    pools, excluded = host_manager.pool_states()
    decision = decide(pools, req, options())
    passed = {w.name for w in decision.weighed}
    ignore_pool = "#" not in backend
    found = next(
        (n for n in passed if (extract_host(n, "backend") if ignore_pool else n) == backend), None
    )
    decision.chosen = found
    if found is None:
        decision.reason = f"Cannot place volume {req.volume_id} on {backend}." + (
            f" {decision.reason}" if decision.reason else ""
        )
    _record(decision, excluded, req, 1, operation, [])
    if found is None:
        raise NoValidBackend(reason=decision.reason)
    host_manager.consume(found, req.size)
    return found


def find_retype_backend(current: str, req: Request, migration_policy: str, operation: str) -> str:
    """Cinder's ``find_retype_backend``: the volume's own pool if it passes the new type's
    filters, else (``migration_policy`` ``on-demand``) the best pool that does."""
    pools, excluded = host_manager.pool_states()
    decision = decide(pools, req, options())
    names = [w.name for w in decision.weighed]
    if not names:
        decision.reason = (
            f"No valid backends for volume {req.volume_id} with the new type. "
            f"{decision.reason or ''}".strip()
        )
    elif current in names or (
        "#" not in current and current in {extract_host(n, "backend") for n in names}
    ):
        decision.chosen = current
    elif migration_policy == "never":
        decision.chosen = None
        decision.reason = (
            f"Current backend not valid for volume {req.volume_id} with the new type, "
            "migration not allowed"
        )
    _record(decision, excluded, req, 1, operation, [])
    if decision.chosen is None:
        raise NoValidBackend(reason=decision.reason)
    if decision.chosen != current:
        host_manager.consume(decision.chosen, req.size)
    return decision.chosen
