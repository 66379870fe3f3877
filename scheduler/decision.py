"""The scheduler's pure decision core: pools and a request in, a traced decision out.

No Django and no I/O here. ``decide`` runs Cinder's FilterScheduler pipeline:

1. Run each configured filter, in order, over the pools the previous one kept,
   recording for every pool which filter dropped it and why.
2. If none survive, explain which filter emptied the list (Cinder's
   "No valid backend was found." plus its per-filter start/end counts).
3. Otherwise run each weigher over the survivors, normalise its raw weights
   over those survivors, and add ``multiplier × normalised`` to each total.
4. Sort by total weight, highest first (a stable sort, so ties keep fleet
   order, as in Cinder); the first is chosen.

Retry bookkeeping (``scheduler_max_attempts``), giving back the capacity a
failed attempt consumed, and consuming capacity on the chosen pool are the
caller's job; ``consume_from_volume`` is the pure half of the last two.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any

from scheduler.filters import (
    DEFAULT_MAX_OVER_SUBSCRIPTION_RATIO,
    INFINITE_UNKNOWN,
    Capacity,
    cached_capacity,
)
from scheduler.filters import make_filters as _make_filters
from scheduler.weighers import make_weighers as _make_weighers
from scheduler.weighers import normalise

DEFAULT_FILTERS = ("AvailabilityZoneFilter", "CapacityFilter", "CapabilitiesFilter")
DEFAULT_WEIGHERS = ("CapacityWeigher",)
NO_VALID_BACKEND = "No valid backend was found."
DEFAULT_AVAILABILITY_ZONE = "nova"


@dataclass
class PoolState:
    """One pool as the scheduler sees it; ``capabilities`` as get_pools?detail=True shows it.

    Treat ``capabilities`` as read-only, as Cinder does (it is a ReadOnlyDict
    there): replace the dict, e.g. with ``consume_from_volume``'s result, rather
    than editing it in place, because the derived capacity figures are cached
    against the dict object.
    """

    name: str  # "host@backend#pool"
    host: str  # "host@backend"
    availability_zone: str
    capabilities: dict[str, Any]

    def capacity(
        self,
        thin: bool = True,
        global_mosr: str = DEFAULT_MAX_OVER_SUBSCRIPTION_RATIO,
    ) -> Capacity:
        """Capacity figures as the CapacityFilter sees them for a thin or thick request."""
        return Capacity._make(cached_capacity(self, thin, global_mosr))


@dataclass
class Request:
    """What the scheduler is asked to place: Cinder's request_spec, flattened."""

    size: int
    extra_specs: dict[str, str] = field(default_factory=dict)
    availability_zone: str | None = None
    retry: dict[str, Any] | None = None  # {"num_attempts": n, "backends": [pool, ...]}
    volume_id: str = ""
    #: The type's ``RESKEY:availability_zones`` (request_spec['availability_zones']);
    #: when set it replaces ``availability_zone`` in the AvailabilityZoneFilter.
    availability_zones: list[str] | None = None


@dataclass
class Options:
    """cinder.conf's scheduler options, with Cinder's defaults."""

    filters: list[str] = field(default_factory=lambda: list(DEFAULT_FILTERS))
    weighers: list[str] = field(default_factory=lambda: list(DEFAULT_WEIGHERS))
    capacity_weight_multiplier: float = 1.0
    allocated_capacity_weight_multiplier: float = -1.0
    volume_number_multiplier: float = -1.0
    #: Cinder has no option for this (the GoodnessWeigher's multiplier is 1.0).
    goodness_weight_multiplier: float = 1.0
    #: The global ``max_over_subscription_ratio`` for pools that report none.
    max_over_subscription_ratio: str = DEFAULT_MAX_OVER_SUBSCRIPTION_RATIO
    #: Volumes per pool for the VolumeNumberWeigher (Cinder counts DB rows).
    volume_counts: dict[str, int] | None = None
    #: Random source for the ChanceWeigher; pass a seeded Random for repeatability.
    rng: random.Random | None = None
    #: Build per-pool failure reasons and per-weigher breakdowns.
    trace: bool = True


@dataclass(slots=True)
class FilterStep:
    name: str
    passed: list[str]
    failed: dict[str, str]


@dataclass(slots=True)
class Weighed:
    name: str
    weight: float
    #: weigher name -> {"raw": r, "normalised": n, "weighted": multiplier × n}
    per_weigher: dict[str, dict[str, float]]


@dataclass
class Decision:
    filters: list[FilterStep]
    weighed: list[Weighed]  # best first
    chosen: str | None
    reason: str | None
    elapsed_ms: float

    def to_json(self) -> dict[str, Any]:
        return {
            "filters": [
                {"name": step.name, "passed": list(step.passed), "failed": dict(step.failed)}
                for step in self.filters
            ],
            "weighed": [
                {
                    "name": item.name,
                    "weight": item.weight,
                    "per_weigher": {k: dict(v) for k, v in item.per_weigher.items()},
                }
                for item in self.weighed
            ],
            "chosen": self.chosen,
            "elapsed_ms": self.elapsed_ms,
            "reason": self.reason,
        }


def decide(pools: list[PoolState], req: Request, opts: Options | None = None) -> Decision:
    """Choose a pool for ``req`` the way Cinder's FilterScheduler would."""
    opts = opts or Options()
    started = time.perf_counter()
    trace = opts.trace
    steps: list[FilterStep] = []
    counts: list[tuple[str, int, int]] = []

    survivors = list(pools)
    for flt in _make_filters(opts.filters, opts):
        start = len(survivors)
        survivors, kept_names, failed = flt.filter_all(survivors, req)
        steps.append(FilterStep(flt.name, kept_names, failed))
        counts.append((flt.name, start, len(survivors)))

    if not survivors:
        reason = _explain_no_backend(counts, len(pools))
        return Decision(steps, [], None, reason, _since(started))

    totals: list[float] | None = None
    columns: list[tuple[str, list[dict[str, float]]]] = []
    for weigher in _make_weighers(opts.weighers, opts):
        raw = weigher.raw_weights(survivors, req)
        scaled = normalise(raw)
        m = weigher.multiplier
        # Cinder starts every total at 0.0 and adds multiplier × normalised per weigher.
        if totals is None:
            totals = [0.0 + m * n for n in scaled]
        else:
            totals = [t + m * n for t, n in zip(totals, scaled, strict=True)]
        if trace:
            column = [
                {"raw": r, "normalised": n, "weighted": m * n}
                for r, n in zip(raw, scaled, strict=True)
            ]
            columns.append((weigher.name, column))
    if totals is None:
        totals = [0.0] * len(survivors)

    names = [pool.name for pool in survivors]
    if len(columns) == 1:
        label, column = columns[0]
        breakdowns = [{label: cell} for cell in column]
    else:
        breakdowns = [{} for _ in names]
        for label, column in columns:
            for breakdown, cell in zip(breakdowns, column, strict=True):
                breakdown[label] = cell
    order = sorted(range(len(names)), key=totals.__getitem__, reverse=True)
    weighed = list(
        map(
            Weighed,
            [names[i] for i in order],
            [totals[i] for i in order],
            [breakdowns[i] for i in order],
        )
    )
    return Decision(steps, weighed, weighed[0].name, None, _since(started))


def _since(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0


def _explain_no_backend(counts: list[tuple[str, int, int]], fleet: int) -> str:
    """Cinder's NoValidBackend text plus its "Filter results: X: (start, end)" log line."""
    if fleet == 0:
        return f"{NO_VALID_BACKEND} No weighed backends available: no pools are known."
    results = ", ".join(f"{name}: (start: {start}, end: {end})" for name, start, end in counts)
    culprit = next(((name, start) for name, start, end in counts if start and not end), None)
    if culprit is None:
        return f"{NO_VALID_BACKEND} No weighed backends available."
    name, start = culprit
    if start == 1:
        what = "the only pool" if fleet == 1 else "the only remaining pool"
    else:
        what = f"all {start} pools" if start == fleet else f"all {start} remaining pools"
    return f"{NO_VALID_BACKEND} {name} rejected {what}. Filter results: {results}"


def consume_from_volume(capabilities: dict[str, Any], size: int, thin: bool) -> dict[str, Any]:
    """Capabilities after virtually placing (or, with a negative size, removing) a volume.

    As Cinder's ``PoolState.consume_from_volume``: allocated and provisioned
    grow by ``size``; free shrinks by ``size`` unless it is 'infinite' or
    'unknown'. Cinder does this for thin volumes too, so ``thin`` does not
    change the arithmetic; it is accepted so callers can say what they placed.
    ``total_volumes`` also moves by one, standing in for the volume row Cinder's
    VolumeNumberWeigher would count. Returns a new dict; the input is untouched.
    """
    updated = dict(capabilities)
    allocated = capabilities.get("allocated_capacity_gb", 0) or 0
    provisioned = capabilities.get("provisioned_capacity_gb")
    if provisioned is None:
        provisioned = allocated  # Cinder's default for provisioned is allocated
    updated["allocated_capacity_gb"] = allocated + size
    updated["provisioned_capacity_gb"] = provisioned + size
    free = capabilities.get("free_capacity_gb", 0)
    if free is not None and free not in INFINITE_UNKNOWN:
        updated["free_capacity_gb"] = free - size
    volumes = capabilities.get("total_volumes", 0) or 0
    updated["total_volumes"] = max(0, volumes + (1 if size >= 0 else -1))
    return updated


def load_fleet(data: dict[str, Any]) -> list[PoolState]:
    """Pools from ``GET /scheduler-stats/get_pools?detail=True`` output.

    ``{"pools": [{"name": "host@backend#pool", "capabilities": {...}}]}``; each
    pool may also carry ``availability_zone`` (default "nova").
    """
    pools = []
    for entry in data.get("pools", []):
        name = entry["name"]
        pools.append(
            PoolState(
                name=name,
                host=name.partition("#")[0],
                availability_zone=entry.get("availability_zone") or DEFAULT_AVAILABILITY_ZONE,
                capabilities=dict(entry.get("capabilities") or {}),
            )
        )
    return pools
