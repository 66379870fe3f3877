"""A pool's capacity as Cinder's scheduler computes it: the figures the CapacityFilter tests.

Plays Cinder's ``scheduler/host_manager.py`` ``PoolState`` defaults (0 for a
missing total, free or allocated; provisioned falls back to allocated) and
``cinder/utils.py`` ``calculate_max_over_subscription_ratio`` and
``calculate_capacity_factors``. The CapacityWeigher must rank by exactly the
figures the CapacityFilter tested, so both read them through one memo on the pool.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from scheduler.state import PoolState

#: cinder.conf ``max_over_subscription_ratio`` (a StrOpt: a number or "auto").
DEFAULT_MAX_OVER_SUBSCRIPTION_RATIO = "20.0"
#: Ratio used for a pool reporting "auto" before anything is provisioned on it.
INITIAL_AUTO_MOSR = 20.0
INFINITE_UNKNOWN = ("infinite", "unknown")


def fmt(value: Any) -> str:
    """A number as a person would write it: 95, 3.2, 0.25 (no float noise)."""
    if value.__class__ is float:
        return f"{value:.12g}"  # 12 significant digits: hides float noise, no trailing .0
    return str(value)


class Capacity(NamedTuple):
    """A pool's capacity figures for one kind of request: Cinder's capacity factors.

    ``state`` is "ok"; "no_total" (total <= 0, figures still computed);
    "free_unset" (free_capacity_gb is None); "free_unbounded" or
    "total_unbounded" ('infinite'/'unknown' reported); or "invalid" (a figure
    is not a number; ``problem`` says which).
    """

    state: str
    thin: bool  # thin maths: thin requested and the pool supports thin provisioning
    total: Any  # as reported
    free: Any  # as reported
    provisioned: float  # provisioned_capacity_gb, defaulting to allocated_capacity_gb
    reserved_percentage: float
    reserved: float  # floor(total × reserved% / 100)
    mosr: float  # the pool's max_over_subscription_ratio (1.0 without thin support)
    total_available: float  # (total − reserved) [× mosr when thin], rounded to 2
    virtual_free: float  # thin: total_available − provisioned; thick: also ≤ free
    problem: str = ""

    def explain(self) -> str:
        """The arithmetic behind ``virtual_free``, for reasons and tooltips."""
        return explain_virtual_free(self)


def explain_virtual_free(figures: tuple[Any, ...]) -> str:
    """``Capacity.explain`` for the plain tuple ``pool_capacity`` returns."""
    _, thin, total, free, provisioned, _, reserved, mosr, _, virtual_free, _ = figures
    base = f"({fmt(total)} − {fmt(reserved)} reserved)"
    if thin:
        return f"{fmt(virtual_free)} GiB = {base} × {fmt(mosr)} − {fmt(provisioned)} provisioned"
    return (
        f"{fmt(virtual_free)} GiB = min(free {fmt(free)}, {base} − {fmt(provisioned)} provisioned)"
    )


def _number(value: Any, field: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{field} {value!r} is not a number") from None


def _ratio(reported: Any, global_mosr: str, total: float, free: Any, provisioned: Any) -> float:
    """Cinder's ``calculate_max_over_subscription_ratio`` for a thin-capable pool."""
    ratio = reported or global_mosr  # a reported 0 or "" falls back to the option
    if ratio == "auto":
        if provisioned == 0:
            return INITIAL_AUTO_MOSR
        used = total - free
        if used + 1 == 0:
            raise ValueError("auto max_over_subscription_ratio divides by zero")
        return 1 + float(provisioned) / (used + 1)
    try:
        return float(ratio)
    except (TypeError, ValueError):
        raise ValueError(
            f"max_over_subscription_ratio {ratio!r} is not a number or 'auto'"
        ) from None


def round2(x: float) -> float:
    """Exactly ``round(x, 2)`` (which Cinder applies to every capacity factor), faster.

    ``round(x, 2)`` goes through a decimal conversion. Away from a .005 tie,
    rounding ``x × 100`` to an integer picks the same hundredth, and dividing
    by 100 gives the same nearest float; near a tie, or for huge values, defer
    to ``round``. tests/scheduler/test_properties.py checks the equivalence.
    """
    y = x * 100.0
    if -1e12 < y < 1e12:
        k = round(y)
        if -0.4999 < y - k < 0.4999:
            return k / 100
    return round(x, 2)


_RATIO_MEMO: dict[str, float] = {}  # "20.0" -> 20.0: reports repeat a handful of spellings


def pool_capacity(caps: dict[str, Any], thin_requested: bool, global_mosr: str) -> tuple[Any, ...]:
    """``Capacity`` fields (as a plain tuple, for speed) for one pool and request kind.

    Defaults follow Cinder's PoolState: 0 for total, free and allocated;
    provisioned falls back to allocated. A complete report of plain numbers
    takes the inlined fast path; missing keys go through ``_with_defaults`` and
    text, None or junk through ``_unusual``.
    """
    try:
        total = caps["total_capacity_gb"]
        free = caps["free_capacity_gb"]
        provisioned = caps["provisioned_capacity_gb"]
        reserved_pct = caps["reserved_percentage"]
        thin_support = caps["thin_provisioning_support"]
    except KeyError:
        return _with_defaults(caps, thin_requested, global_mosr)
    if provisioned is None:
        return _with_defaults(caps, thin_requested, global_mosr)
    thin = True if thin_requested and thin_support else False
    if free is None or free.__class__ is str or total.__class__ is str:
        return _unusual(caps, total, free, provisioned, reserved_pct, thin, global_mosr)
    try:
        if thin_support:
            ratio = caps.get("max_over_subscription_ratio") or global_mosr
            if ratio.__class__ is float:
                mosr = ratio
            else:
                mosr = _RATIO_MEMO.get(ratio) if ratio.__class__ is str else None
                if mosr is None:
                    mosr = _ratio(ratio, global_mosr, total, free, provisioned)
                    if ratio.__class__ is str and ratio != "auto" and len(_RATIO_MEMO) < 256:
                        _RATIO_MEMO[ratio] = mosr
        else:
            mosr = 1.0

        # sched_utils.calculate_capacity_factors, in Cinder's operation order:
        # the percentage is divided first, and floor() makes that order visible.
        if total.__class__ is not float:
            total = float(total)
        # floor(total × 0.0) is 0, so an unreserved pool can skip the floor.
        reserved = math.floor(total * (reserved_pct / 100)) if reserved_pct else 0
        available = total - reserved
        # round2() inlined below: this runs for every pool on every decision.
        if thin:
            total_available = available * mosr
            virtual_free = total_available - provisioned
            y = total_available * 100.0
            if -1e12 < y < 1e12 and -0.4999 < y - (k := round(y)) < 0.4999:
                total_available = k / 100
            else:
                total_available = round(total_available, 2)
        else:
            total_available = available
            virtual_free = available - provisioned
            if free < virtual_free:
                virtual_free = free
        y = virtual_free * 100.0
        if -1e12 < y < 1e12 and -0.4999 < y - (k := round(y)) < 0.4999:
            virtual_free = k / 100
        else:
            virtual_free = round(virtual_free, 2)
    except TypeError:  # a figure of the wrong type: convert it or say what is wrong
        return _unusual(caps, total, free, provisioned, reserved_pct, thin, global_mosr)
    except ValueError as exc:  # a max_over_subscription_ratio that is not a number
        return _invalid(total, free, provisioned, reserved_pct, thin, str(exc))
    return (
        "ok" if total > 0 else "no_total",
        thin,
        total,
        free,
        provisioned,
        reserved_pct,
        reserved,
        mosr,
        total_available,
        virtual_free,
        "",
    )


def _with_defaults(caps: dict[str, Any], thin_requested: bool, global_mosr: str) -> tuple[Any, ...]:
    """Fill in Cinder's PoolState defaults for keys a report left out."""
    filled = {
        "total_capacity_gb": 0,
        "free_capacity_gb": 0,
        "reserved_percentage": 0,
        "thin_provisioning_support": False,
        **caps,
    }
    if filled.get("provisioned_capacity_gb") is None:
        filled["provisioned_capacity_gb"] = caps.get("allocated_capacity_gb", 0) or 0
    return pool_capacity(filled, thin_requested, global_mosr)


def _invalid(
    total: Any, free: Any, provisioned: Any, reserved_pct: Any, thin: bool, problem: str
) -> tuple[Any, ...]:
    return ("invalid", thin, total, free, provisioned, reserved_pct, 0.0, 1.0, 0.0, 0.0, problem)


def _unusual(
    caps: dict[str, Any],
    total: Any,
    free: Any,
    provisioned: Any,
    reserved_pct: Any,
    thin: bool,
    global_mosr: str,
) -> tuple[Any, ...]:
    """Reports with None, 'infinite'/'unknown', numbers as text, or junk."""
    state = ""
    if free is None:
        state = "free_unset"  # Cinder: "Free capacity not set"
    elif free in INFINITE_UNKNOWN:
        state = "free_unbounded"
    elif total in INFINITE_UNKNOWN:
        state = "total_unbounded"
    if state:
        return (state, thin, total, free, provisioned, reserved_pct, 0.0, 1.0, 0.0, 0.0, "")
    try:
        numbers = {
            "total_capacity_gb": _number(total, "total_capacity_gb"),
            "free_capacity_gb": _number(free, "free_capacity_gb"),
            "provisioned_capacity_gb": _number(provisioned, "provisioned_capacity_gb"),
            "reserved_percentage": _number(reserved_pct, "reserved_percentage"),
        }
    except ValueError as exc:
        return _invalid(total, free, provisioned, reserved_pct, thin, str(exc))
    return pool_capacity({**caps, **numbers}, thin, global_mosr)


def cached_capacity(pool: PoolState, thin: bool, global_mosr: str) -> tuple[Any, ...]:
    """``pool_capacity`` memoised on the pool, so filter and weigher compute it once.

    The memo is keyed on the capabilities dict object (hence "replace, do not
    edit, capabilities"), the request kind and the global ratio option.
    """
    caps = pool.capabilities
    memo = pool._capacity
    if memo is not None and memo[0] is caps and memo[1] is thin and memo[2] == global_mosr:
        return memo[3]
    figures = pool_capacity(caps, thin, global_mosr)
    pool._capacity = (caps, thin, global_mosr, figures)
    return figures


def wants_thin(extra_specs: dict[str, Any]) -> bool:
    """Cinder assumes thin unless the type says ``provisioning:type=thick``."""
    return extra_specs.get("provisioning:type") != "thick"


def _has_room(figures: tuple[Any, ...], size: int) -> bool:
    """The CapacityFilter's test for an "ok" pool (indexes follow ``Capacity``).

    Thin: Cinder first checks (provisioned + size) / total_available against
    the ratio (total_available already includes the ratio, so this rarely
    binds), then virtual free >= size. Thick: virtual free >= size.
    """
    if figures[0] != "ok":
        return False
    if figures[1]:
        mosr, total_available = figures[7], figures[8]
        return bool(
            mosr >= 1
            and total_available
            and (figures[4] + size) / total_available <= mosr
            and figures[9] >= size
        )
    return bool(figures[9] >= size)
