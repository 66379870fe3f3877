"""Cinder's weighers: a raw score per surviving pool, normalised, times a multiplier.

Each weigher returns raw weights for the survivors; ``normalise`` maps them onto
0..1 by min-max over those survivors only (all equal gives all 0), and the
decision adds ``multiplier × normalised`` per weigher. Higher totals win.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from scheduler import evaluator
from scheduler.capacity import DEFAULT_MAX_OVER_SUBSCRIPTION_RATIO, capacities, wants_thin
from scheduler.filters import FunctionScope, protocol_choices
from scheduler.state import Options, PoolState, Request

#: CapacityWeigher's stand-in for an infinite weight: max finite + spread × 100,
#: or + 10000 when every finite weight is equal.
OFFSET_MIN = 10000.0
OFFSET_MULT = 100.0


def normalise(weights: Sequence[float]) -> list[float]:
    """Cinder's ``base_weight.normalize``: (w − min) / (max − min); all equal gives 0."""
    if not weights:
        return []
    low, high = min(weights), max(weights)
    if low == high:
        return [0.0] * len(weights)
    span = high - low
    return [(w - low) / span for w in weights]


def _figure(value: Any) -> float:
    """A reported count or size as a float; missing or junk counts as 0."""
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


class BaseWeigher:
    """A weigher: a name, a multiplier, and raw weights for a list of pools."""

    name: ClassVar[str] = "BaseWeigher"

    def __init__(self, opts: Options | None = None) -> None:
        self.opts = opts
        self.multiplier = 1.0

    def raw_weights(self, pools: Sequence[PoolState], req: Request) -> list[float]:
        return [self.weigh(pool, req) for pool in pools]

    def weigh(self, pool: PoolState, req: Request) -> float:
        raise NotImplementedError


class CapacityWeigher(BaseWeigher):
    """Weigh by virtual free capacity, exactly as the CapacityFilter computed it.

    The default multiplier 1.0 spreads volumes (most free wins); a negative one
    stacks them. Pools reporting 'infinite'/'unknown' capacity get the lowest
    weight when spreading (-1) and, when stacking, an "infinite" weight that is
    replaced by a finite value just above the others, so they still rank last.
    """

    name = "CapacityWeigher"

    def __init__(self, opts: Options | None = None) -> None:
        super().__init__(opts)
        self.multiplier = 1.0 if opts is None else opts.capacity_weight_multiplier
        self.global_mosr = (
            DEFAULT_MAX_OVER_SUBSCRIPTION_RATIO
            if opts is None
            else opts.max_over_subscription_ratio
        )

    def raw_weights(self, pools: Sequence[PoolState], req: Request) -> list[float]:
        unbounded = -1.0 if self.multiplier > 0 else math.inf
        weights: list[float] = []
        append = weights.append
        # The CapacityFilter usually just computed these: the memo hands them back.
        for capacity in capacities(pools, wants_thin(req.extra_specs), self.global_mosr):
            state = capacity.state
            if state == "ok" or state == "no_total":
                append(capacity.virtual_free)
            elif state == "invalid":
                append(0.0)  # an unusable report; the CapacityFilter fails these pools
            else:
                # 'infinite'/'unknown' (and an unset free, where Cinder would crash)
                append(unbounded)
        if unbounded == math.inf and math.inf in weights:
            weights = self._replace_infinity(weights)
        return weights

    @staticmethod
    def _replace_infinity(weights: list[float]) -> list[float]:
        finite = [w for w in weights if not math.isinf(w)]
        if not finite:
            # Every pool unbounded: Cinder fails here (max() of nothing); all
            # equal weights rank them in report order instead.
            return [OFFSET_MIN] * len(weights)
        high, low = max(finite), min(finite)
        offset = (high - low) * OFFSET_MULT
        stand_in = high + (OFFSET_MIN if offset == 0.0 else offset)
        return [stand_in if math.isinf(w) else w for w in weights]


class AllocatedCapacityWeigher(BaseWeigher):
    """Weigh by ``allocated_capacity_gb``; the default -1.0 favours the least allocated."""

    name = "AllocatedCapacityWeigher"

    def __init__(self, opts: Options | None = None) -> None:
        super().__init__(opts)
        self.multiplier = -1.0 if opts is None else opts.allocated_capacity_weight_multiplier

    def weigh(self, pool: PoolState, req: Request) -> float:
        return _figure(pool.capabilities.get("allocated_capacity_gb"))


class VolumeNumberWeigher(BaseWeigher):
    """Weigh by the number of volumes on the pool; the default -1.0 favours the fewest.

    Cinder counts volume rows whose host is the pool; pass those counts in
    ``Options.volume_counts``. Without them the pool's reported
    ``total_volumes`` stands in.
    """

    name = "VolumeNumberWeigher"

    def __init__(self, opts: Options | None = None) -> None:
        super().__init__(opts)
        self.multiplier = -1.0 if opts is None else opts.volume_number_multiplier
        self.counts = None if opts is None else opts.volume_counts

    def weigh(self, pool: PoolState, req: Request) -> float:
        if self.counts is not None:
            return _figure(self.counts.get(pool.name))
        return _figure(pool.capabilities.get("total_volumes"))


class ChanceWeigher(BaseWeigher):
    """A random weight per pool, to spread over equally good pools."""

    name = "ChanceWeigher"

    def __init__(self, opts: Options | None = None) -> None:
        super().__init__(opts)
        rng = None if opts is None else opts.rng
        self.random = (rng or random).random

    def weigh(self, pool: PoolState, req: Request) -> float:
        return self.random()


def goodness_rating(pool: PoolState, req: Request, scope: FunctionScope | None = None) -> float:
    """A pool's ``goodness_function`` result, 0..100, as Cinder's GoodnessWeigher rates it.

    No function, an error, or a result outside 0..100 rates 0; ``True`` is 100.
    When the function mentions storage_protocol it is tried with every spelling
    of the pool's protocol and the best result counts.
    """
    function = pool.capabilities.get("goodness_function")
    if function is None:
        return 0.0
    function = str(function)
    try:
        expression = evaluator.parse(function)
    except evaluator.EvaluatorError:
        return 0.0
    scope = scope or FunctionScope(req)
    best = 0.0
    for protocol in protocol_choices(function, pool.capabilities):
        best = max(best, _rate(expression, scope.variables(pool, expression, protocol)))
    return best


def _rate(expression: evaluator.Expression, variables: dict[str, Any]) -> float:
    try:
        result = expression.evaluate(variables)
    except evaluator.EvaluatorError:
        return 0.0
    if type(result) is bool:
        return 100.0 if result else 0.0
    if not isinstance(result, (int, float)) or not 0 <= result <= 100:
        return 0.0  # also text and NaN, where Cinder would raise
    return float(result)


class GoodnessWeigher(BaseWeigher):
    """Weigh by the backend's own ``goodness_function`` rating (0..100)."""

    name = "GoodnessWeigher"

    def __init__(self, opts: Options | None = None) -> None:
        super().__init__(opts)
        self.multiplier = 1.0 if opts is None else opts.goodness_weight_multiplier

    def raw_weights(self, pools: Sequence[PoolState], req: Request) -> list[float]:
        scope = FunctionScope(req)
        return [goodness_rating(pool, req, scope) for pool in pools]


WEIGHERS: dict[str, type[BaseWeigher]] = {
    cls.name: cls
    for cls in (
        CapacityWeigher,
        AllocatedCapacityWeigher,
        VolumeNumberWeigher,
        ChanceWeigher,
        GoodnessWeigher,
    )
}


def make_weighers(names: Iterable[str], opts: Options) -> list[BaseWeigher]:
    """Instantiate weighers by class name, as ``scheduler_default_weighers`` does."""
    names = list(names)
    missing = [name for name in names if name not in WEIGHERS]
    if missing:
        raise ValueError(f"Scheduler Host Weigher {', '.join(missing)} could not be found.")
    return [WEIGHERS[name](opts) for name in names]
