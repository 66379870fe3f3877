"""Properties that must hold for any fleet, any request, any function text."""

import builtins
import math
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from scheduler.capacity import round2
from scheduler.decision import consume_from_volume, decide
from scheduler.evaluator import EvaluatorError, EvaluatorSyntaxError, parse
from scheduler.filters import CapacityFilter
from scheduler.state import Options, PoolState, Request

# No example database: keep the repository clean and runs independent.
PROPERTY = settings(max_examples=300, deadline=None, database=None)

sizes = st.integers(min_value=1, max_value=5000)
gib = st.one_of(
    st.integers(min_value=0, max_value=100_000),
    st.floats(min_value=0, max_value=100_000, allow_nan=False, allow_infinity=False),
)
ratios = st.sampled_from(["1.0", "1.5", "20.0", "auto", 2.0, 3, None, "0.5"])


@st.composite
def bounded_pools(draw: st.DrawFn) -> dict[str, Any]:
    total = draw(st.floats(min_value=1, max_value=100_000, allow_nan=False))
    return {
        "total_capacity_gb": total,
        "free_capacity_gb": draw(st.floats(min_value=0, max_value=total)),
        "provisioned_capacity_gb": draw(gib),
        "reserved_percentage": draw(st.integers(min_value=0, max_value=100)),
        "thin_provisioning_support": draw(st.booleans()),
        "max_over_subscription_ratio": draw(ratios),
    }


def expected_ratio(caps: dict[str, Any], global_ratio: str = "20.0") -> float:
    """Cinder's documented max_over_subscription_ratio, computed independently."""
    ratio = caps["max_over_subscription_ratio"] or global_ratio
    if ratio == "auto":
        provisioned = caps["provisioned_capacity_gb"]
        if provisioned == 0:
            return 20.0
        return 1 + provisioned / (caps["total_capacity_gb"] - caps["free_capacity_gb"] + 1)
    return float(ratio)


def room(caps: dict[str, Any], thin: bool) -> float:
    """How many GiB a pool can take, by the documented formulas (no rounding)."""
    total = caps["total_capacity_gb"]
    reserved = math.floor(total * (caps["reserved_percentage"] / 100))
    available = total - reserved
    provisioned = caps["provisioned_capacity_gb"]
    if thin and caps["thin_provisioning_support"]:
        return available * expected_ratio(caps) - provisioned
    return min(caps["free_capacity_gb"], available - provisioned)


def as_pool(caps: dict[str, Any], name: str = "node@lvm#lvm") -> PoolState:
    return PoolState(name, name.partition("#")[0], "nova", caps)


@PROPERTY
@given(caps=bounded_pools(), size=sizes, thin=st.booleans())
def test_capacity_filter_never_passes_a_pool_without_room(
    caps: dict[str, Any], size: int, thin: bool
) -> None:
    spec = {} if thin else {"provisioning:type": "thick"}
    verdict = CapacityFilter().backend_passes(as_pool(caps), Request(size=size, extra_specs=spec))
    if verdict.passed:
        # Cinder rounds virtual free to 2 places before comparing, hence the half cent.
        assert size <= room(caps, thin) + 0.005 + 1e-9 * caps["total_capacity_gb"]
        if thin and caps["thin_provisioning_support"]:
            assert expected_ratio(caps) >= 1


@PROPERTY
@given(caps=bounded_pools(), size=sizes, thin=st.booleans())
def test_capacity_filter_passes_every_pool_with_clear_room(
    caps: dict[str, Any], size: int, thin: bool
) -> None:
    using_thin = thin and caps["thin_provisioning_support"]
    assume(not using_thin or expected_ratio(caps) >= 1)
    assume(room(caps, thin) >= size + 0.01)
    spec = {} if thin else {"provisioning:type": "thick"}
    assert CapacityFilter().backend_passes(as_pool(caps), Request(size=size, extra_specs=spec))


odd_values = st.one_of(
    gib,
    st.sampled_from(["infinite", "unknown", None, "100", "junk", True, [1]]),
)


@PROPERTY
@given(
    reports=st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "total_capacity_gb": odd_values,
                "free_capacity_gb": odd_values,
                "provisioned_capacity_gb": odd_values,
                "allocated_capacity_gb": gib,
                "reserved_percentage": st.sampled_from([0, 5, 50, "5", None]),
                "thin_provisioning_support": st.booleans(),
                "max_over_subscription_ratio": st.sampled_from(["20.0", "auto", "x", 0, 0.5]),
            },
        ),
        max_size=8,
    ),
    size=st.integers(min_value=0, max_value=2000),
    thin=st.booleans(),
    trace=st.booleans(),
)
def test_batch_capacity_filtering_agrees_with_one_pool_at_a_time(
    reports: list[dict[str, Any]], size: int, thin: bool, trace: bool
) -> None:
    pools = [as_pool(caps, f"node{i}@lvm#lvm") for i, caps in enumerate(reports)]
    req = Request(size=size, extra_specs={} if thin else {"provisioning:type": "thick"})
    flt = CapacityFilter(Options(trace=trace))
    kept, names, failed = flt.filter_all(pools, req)
    single = CapacityFilter(Options(trace=trace))
    for pool in pools:
        verdict = single.backend_passes(as_pool(pool.capabilities, pool.name), req)
        assert (pool in kept) is verdict.passed
        assert failed.get(pool.name, "") == verdict.reason
    assert names == [pool.name for pool in kept]


@st.composite
def spreadable_fleets(draw: st.DrawFn) -> list[PoolState]:
    frees = draw(st.lists(st.integers(min_value=10, max_value=10_000), min_size=2, unique=True))
    pools = []
    for i, free in enumerate(frees):
        caps = {
            "total_capacity_gb": 20_000,
            "free_capacity_gb": free,
            "provisioned_capacity_gb": 20_000 - free,
            "thin_provisioning_support": False,
        }
        pools.append(as_pool(caps, f"node{i}@lvm#lvm"))
    return pools


@PROPERTY
@given(pools=spreadable_fleets(), multiplier=st.floats(min_value=0.1, max_value=100))
def test_flipping_the_capacity_multiplier_sign_flips_spreading_to_stacking(
    pools: list[PoolState], multiplier: float
) -> None:
    req = Request(size=1)
    free = {pool.name: pool.capabilities["free_capacity_gb"] for pool in pools}
    spread = decide(pools, req, Options(capacity_weight_multiplier=multiplier))
    stack = decide(pools, req, Options(capacity_weight_multiplier=-multiplier))
    assert spread.chosen == max(free, key=free.__getitem__)
    assert stack.chosen == min(free, key=free.__getitem__)


@PROPERTY
@given(pools=spreadable_fleets(), trace=st.booleans())
def test_weighed_pools_come_best_first_with_normalised_shares(
    pools: list[PoolState], trace: bool
) -> None:
    decision = decide(pools, Request(size=1), Options(trace=trace))
    weights = [item.weight for item in decision.weighed]
    assert weights == sorted(weights, reverse=True)
    assert decision.chosen == decision.weighed[0].name
    for item in decision.weighed:
        for share in item.per_weigher.values():
            assert 0.0 <= share["normalised"] <= 1.0


@PROPERTY
@given(
    free=st.integers(min_value=0, max_value=10**6),
    allocated=st.integers(min_value=0, max_value=10**6),
    volumes=st.integers(min_value=1, max_value=1000),
    size=st.integers(min_value=0, max_value=10**4),
)
def test_consuming_then_giving_back_restores_the_figures(
    free: int, allocated: int, volumes: int, size: int
) -> None:
    caps = {
        "free_capacity_gb": free,
        "allocated_capacity_gb": allocated,
        "provisioned_capacity_gb": allocated,
        "total_volumes": volumes,
    }
    taken = consume_from_volume(caps, size, thin=True)
    assert taken["free_capacity_gb"] == free - size
    assert consume_from_volume(taken, -size, thin=True) == caps


@PROPERTY
@given(
    x=st.one_of(
        st.floats(allow_nan=False, allow_infinity=False),
        st.integers(min_value=-(10**9), max_value=10**9).map(lambda k: (2 * k + 1) / 200),
        st.integers(min_value=-(10**9), max_value=10**9).map(lambda k: math.nextafter(k / 200, 0)),
    )
)
def test_round2_is_exactly_pythons_round_to_two_places(x: float) -> None:
    assert round2(x) == round(x, 2)


GRAMMAR_TOKENS = [
    "1", "2", "0", "3.5", "10", "capabilities.x", "volume.size", "stats.iops", "iSCSI", "'a'",
    "+", "-", "*", "/", "^", "(", ")", "?", ":", "and", "or", "not", "!", "<", "<=", "==",
    "!=", "<>", ">", ">=", ",", "max", "min", "abs", "&&", "||", "__import__", "os", "eval",
]  # fmt: skip
VARIABLES = {
    "capabilities": {"x": 91.8},
    "volume": {"size": 10},
    "stats": {"iops": 1000},
}
ALLOWED_RESULTS = (int, float, bool, str, list)


def never(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the evaluator reached Python's own code execution")


def check_safely_evaluated(text: str) -> None:
    saved = {name: getattr(builtins, name) for name in ("eval", "exec", "compile", "__import__")}
    try:
        for name in saved:
            setattr(builtins, name, never)
        try:
            expression = parse(text)
        except EvaluatorSyntaxError:
            return
        try:
            result = expression.evaluate(VARIABLES)
        except EvaluatorError:
            return
    finally:
        for name, original in saved.items():
            setattr(builtins, name, original)
    assert isinstance(result, ALLOWED_RESULTS)


@PROPERTY
@given(text=st.text(max_size=80))
def test_the_evaluator_never_executes_arbitrary_text(text: str) -> None:
    check_safely_evaluated(text)


@PROPERTY
@given(tokens=st.lists(st.sampled_from(GRAMMAR_TOKENS), min_size=1, max_size=12))
def test_the_evaluator_only_ever_returns_values_or_its_own_errors(tokens: list[str]) -> None:
    check_safely_evaluated(" ".join(tokens))


def test_import_is_a_syntax_error_not_a_call() -> None:
    for text in ("__import__('os')", "__import__('os').system('id')", "eval('1')", "exec('1')"):
        try:
            parse(text)
        except EvaluatorSyntaxError:
            continue
        raise AssertionError(f"{text!r} parsed")


@PROPERTY
@given(a=st.integers(-(10**6), 10**6), b=st.integers(-(10**6), 10**6))
def test_arithmetic_and_helpers_agree_with_python_on_integers(a: int, b: int) -> None:
    def run(text: str) -> Any:
        return parse(text).evaluate({})

    pa, pb = f"({a})".replace("(-", "(0-"), f"({b})".replace("(-", "(0-")
    assert run(f"{pa} + {pb}") == a + b
    assert run(f"{pa} * {pb}") == a * b
    assert run(f"max({pa}, {pb})") == max(a, b)
    assert run(f"min({pa}, {pb})") == min(a, b)
    assert run(f"abs({pa})") == abs(a)
    assert run(f"{pa} < {pb} ? 1 : 2") == (1 if a < b else 2)
