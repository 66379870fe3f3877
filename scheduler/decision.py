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

import operator
import time
from dataclasses import dataclass
from typing import Any

from scheduler.capacity import INFINITE_UNKNOWN
from scheduler.filters import make_filters as _make_filters
from scheduler.state import Options, PoolState, Request
from scheduler.weighers import make_weighers as _make_weighers
from scheduler.weighers import normalise

NO_VALID_BACKEND = "No valid backend was found."


@dataclass(slots=True)
class FilterStep:
    """One filter's pass over the pools the previous filters kept."""

    name: str
    passed: list[str]
    failed: dict[str, str]


class _Parts:
    """Each weigher's raw and normalised weights over the survivors, in survivor order:
    a pool's breakdown is built from them only when someone reads it (the stored trace
    keeps the best 25 of hundreds)."""

    __slots__ = ("weighers",)

    def __init__(self) -> None:
        self.weighers: list[tuple[str, float, list[float], list[float]]] = []

    def breakdown(self, index: int) -> dict[str, dict[str, float]]:
        return {
            label: {"raw": raw[index], "normalised": scaled[index], "weighted": m * scaled[index]}
            for label, m, raw, scaled in self.weighers
        }


class Weighed:
    """A surviving pool's total weight and what each weigher contributed."""

    __slots__ = ("name", "weight", "_parts", "_index", "_breakdown")

    def __init__(self, name: str, weight: float, parts: _Parts | None = None, index: int = 0):
        self.name = name
        self.weight = weight
        self._parts = parts
        self._index = index
        self._breakdown: dict[str, dict[str, float]] | None = None

    @property
    def per_weigher(self) -> dict[str, dict[str, float]]:
        """weigher name -> {"raw": r, "normalised": n, "weighted": multiplier × n}"""
        if self._breakdown is None:
            parts = self._parts
            self._breakdown = parts.breakdown(self._index) if parts is not None else {}
        return self._breakdown

    def __repr__(self) -> str:
        return f"Weighed({self.name!r}, {self.weight!r})"


@dataclass
class Decision:
    """The outcome and its explanation: every filter step, the ranking, the choice."""

    filters: list[FilterStep]
    weighed: list[Weighed]  # best first
    chosen: str | None
    reason: str | None
    elapsed_ms: float

    def to_json(self) -> dict[str, Any]:
        """Plain JSON types only, in the documented shape (for DecisionTrace rows)."""
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
    opts = opts if opts is not None else Options()
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

    weighers = _make_weighers(opts.weighers, opts)
    totals = [0.0] * len(survivors)  # Cinder starts every total at 0.0
    parts = _Parts() if trace else None
    for weigher in weighers:
        raw = weigher.raw_weights(survivors, req)
        scaled = normalise(raw)
        m = weigher.multiplier
        totals = [t + m * n for t, n in zip(totals, scaled, strict=True)]
        if parts is not None:
            parts.weighers.append((weigher.name, m, raw, scaled))

    unsorted = [
        Weighed(pool.name, total, parts, index)
        for index, (pool, total) in enumerate(zip(survivors, totals, strict=True))
    ]
    # Stable, highest first: ties keep fleet order, as Cinder's sorted(reverse=True) does.
    weighed = sorted(unsorted, key=_by_weight, reverse=True)
    return Decision(steps, weighed, weighed[0].name, None, _since(started))


_by_weight = operator.attrgetter("weight")


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
    ``total_volumes`` also moves by one (up for a positive size, down for a
    negative one), standing in for the volume row Cinder's VolumeNumberWeigher
    would count. Returns a new dict; the input is untouched.
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
    if size:
        volumes = capabilities.get("total_volumes", 0) or 0
        updated["total_volumes"] = max(0, volumes + (1 if size > 0 else -1))
    return updated
