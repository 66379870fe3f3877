"""A pool's capacity as Cinder's scheduler computes it: the figures the CapacityFilter tests.

Plays Cinder's ``scheduler/host_manager.py`` ``PoolState`` defaults (0 for a
missing total, free or allocated; provisioned falls back to allocated) and
``cinder/utils.py`` ``calculate_max_over_subscription_ratio`` and
``calculate_capacity_factors``. The CapacityWeigher must rank by exactly the
figures the CapacityFilter tested, so both read them through ``capacities``,
the one memo lookup (``PoolState.capacity`` uses it too).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, Protocol

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


class Capacity:
    """A pool's capacity figures for one kind of request: Cinder's capacity factors.

    ``state`` is "ok"; "no_total" (total <= 0, figures still computed);
    "free_unset" (free_capacity_gb is None); "free_unbounded" or
    "total_unbounded" ('infinite'/'unknown' reported); or "invalid" (a figure
    is not a number; ``problem`` says which).

    A ``__slots__`` class built blank and then filled, not a NamedTuple: slot
    reads are as fast as tuple indexing, and building one costs less than a
    NamedTuple (measured), which shows at 1,000 pools per decision. The
    filter and the weigher share one instance through the pool's memo, so
    treat it as read-only.
    """

    __slots__ = (
        "state",
        "thin",
        "total",
        "free",
        "provisioned",
        "reserved_percentage",
        "reserved",
        "mosr",
        "total_available",
        "virtual_free",
        "problem",
    )

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
    problem: str

    def has_room(self, size: int) -> bool:
        """The CapacityFilter's test for an "ok" pool.

        Thin: Cinder first checks (provisioned + size) / total_available against
        the ratio (total_available already includes the ratio, so this rarely
        binds), then virtual free >= size. Thick: virtual free >= size.
        """
        if self.state != "ok":
            return False
        if self.thin:
            mosr, total_available = self.mosr, self.total_available
            if not (mosr >= 1 and total_available):
                return False
            return (self.provisioned + size) / total_available <= mosr and self.virtual_free >= size
        return self.virtual_free >= size

    def explain(self) -> str:
        """The arithmetic behind ``virtual_free``, for reasons and tooltips."""
        base = f"({fmt(self.total)} − {fmt(self.reserved)} reserved)"
        provisioned = f"{fmt(self.provisioned)} provisioned"
        if self.thin:
            return f"{fmt(self.virtual_free)} GiB = {base} × {fmt(self.mosr)} − {provisioned}"
        return f"{fmt(self.virtual_free)} GiB = min(free {fmt(self.free)}, {base} − {provisioned})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not Capacity:
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__slots__)

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"Capacity({fields})"


def _capacity(
    state: str,
    thin: bool,
    total: Any,
    free: Any,
    provisioned: Any,
    reserved_pct: Any,
    reserved: float = 0.0,
    mosr: float = 1.0,
    total_available: float = 0.0,
    virtual_free: float = 0.0,
    problem: str = "",
) -> Capacity:
    """A filled ``Capacity``; the defaults are the figures of an unusable report."""
    figures = Capacity()
    figures.state = state
    figures.thin = thin
    figures.total = total
    figures.free = free
    figures.provisioned = provisioned
    figures.reserved_percentage = reserved_pct
    figures.reserved = reserved
    figures.mosr = mosr
    figures.total_available = total_available
    figures.virtual_free = virtual_free
    figures.problem = problem
    return figures


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


def pool_capacity(caps: dict[str, Any], thin_requested: bool, global_mosr: str) -> Capacity:
    """The ``Capacity`` of one pool's report for one request kind.

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
    # _capacity() inlined: this runs for every pool on every cold decision.
    figures = Capacity()
    figures.state = "ok" if total > 0 else "no_total"
    figures.thin = thin
    figures.total = total
    figures.free = free
    figures.provisioned = provisioned
    figures.reserved_percentage = reserved_pct
    figures.reserved = reserved
    figures.mosr = mosr
    figures.total_available = total_available
    figures.virtual_free = virtual_free
    figures.problem = ""
    return figures


def _with_defaults(caps: dict[str, Any], thin_requested: bool, global_mosr: str) -> Capacity:
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
) -> Capacity:
    return _capacity("invalid", thin, total, free, provisioned, reserved_pct, problem=problem)


def _unusual(
    caps: dict[str, Any],
    total: Any,
    free: Any,
    provisioned: Any,
    reserved_pct: Any,
    thin: bool,
    global_mosr: str,
) -> Capacity:
    """Reports with None, 'infinite'/'unknown', numbers as text, or junk."""
    state = ""
    if free is None:
        state = "free_unset"  # Cinder: "Free capacity not set"
    elif free in INFINITE_UNKNOWN:
        state = "free_unbounded"
    elif total in INFINITE_UNKNOWN:
        state = "total_unbounded"
    if state:
        return _capacity(state, thin, total, free, provisioned, reserved_pct)
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


class MemoisingPool(Protocol):
    """What ``capacities`` needs of a pool (``state.PoolState`` is one).

    The memo is the figures plus, in plain attributes rather than a key
    tuple, what they were computed from: one object per pool fewer for the
    garbage collector to track, which shows on a cold 1,000-pool decision.
    """

    capabilities: dict[str, Any]
    _capacity: Capacity | None
    _capacity_report: dict[str, Any] | None
    _capacity_thin: bool | None
    _capacity_mosr: str | None


def capacities(pools: Iterable[MemoisingPool], thin: bool, global_mosr: str) -> list[Capacity]:
    """Each pool's ``pool_capacity``, memoised on the pool so filter and weigher compute it once.

    The memo is keyed on the capabilities dict object (hence "replace, do not
    edit, capabilities"), the request kind and the global ratio option. It
    takes many pools because the filter and the weigher loop over a whole
    fleet, where a call per pool would cost more than the lookup itself.
    """
    found: list[Capacity] = []
    append = found.append
    for pool in pools:
        caps = pool.capabilities
        if (
            pool._capacity_report is caps
            and pool._capacity_thin is thin
            and pool._capacity_mosr == global_mosr
        ):
            append(pool._capacity)
            continue
        figures = pool_capacity(caps, thin, global_mosr)
        pool._capacity = figures
        pool._capacity_report = caps
        pool._capacity_thin = thin
        pool._capacity_mosr = global_mosr
        append(figures)
    return found


def wants_thin(extra_specs: dict[str, Any]) -> bool:
    """Cinder assumes thin unless the type says ``provisioning:type=thick``."""
    return extra_specs.get("provisioning:type") != "thick"
