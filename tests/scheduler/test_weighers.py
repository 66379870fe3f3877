"""Weighers: raw scores as Cinder computes them, min-max normalisation, multipliers."""

import random
from typing import Any

import pytest

from scheduler.decision import decide
from scheduler.state import Options, PoolState, Request
from scheduler.weighers import (
    OFFSET_MIN,
    AllocatedCapacityWeigher,
    CapacityWeigher,
    ChanceWeigher,
    GoodnessWeigher,
    VolumeNumberWeigher,
    goodness_rating,
    make_weighers,
    normalise,
)


def pool(name: str, zone: str = "nova", **caps: Any) -> PoolState:
    return PoolState(
        name=name, host=name.partition("#")[0], availability_zone=zone, capabilities=caps
    )


def thick(name: str, free: float, total: float = 1000, **caps: Any) -> PoolState:
    return pool(
        name,
        total_capacity_gb=total,
        free_capacity_gb=free,
        provisioned_capacity_gb=total - free,
        thin_provisioning_support=False,
        **caps,
    )


REQ = Request(size=1)


def test_normalise_maps_the_survivors_onto_zero_to_one() -> None:
    assert normalise([10.0, 20.0, 15.0]) == [0.0, 1.0, 0.5]


def test_normalise_gives_zero_when_all_weights_are_equal() -> None:
    assert normalise([7.0, 7.0]) == [0.0, 0.0]
    assert normalise([]) == []


def test_capacity_weigher_raw_weight_is_the_virtual_free_capacity() -> None:
    pools = [
        thick("a#p", free=300, reserved_percentage=10),  # min(300, (1000 − 100) − 700)
        pool(
            "b#p",
            total_capacity_gb=100,
            free_capacity_gb=0,
            provisioned_capacity_gb=150,
            thin_provisioning_support=True,
            max_over_subscription_ratio="2.0",
        ),  # 100 × 2 − 150
    ]
    assert CapacityWeigher().raw_weights(pools, REQ) == [200, 50]


def test_capacity_weigher_uses_thick_maths_for_thick_types() -> None:
    thin_pool = pool(
        "a#p",
        total_capacity_gb=100,
        free_capacity_gb=10,
        provisioned_capacity_gb=150,
        thin_provisioning_support=True,
    )
    req = Request(size=1, extra_specs={"provisioning:type": "thick"})
    assert CapacityWeigher().raw_weights([thin_pool], req) == [-50]  # min(10, 100 − 150)


def test_default_capacity_multiplier_spreads_to_the_emptiest_pool() -> None:
    pools = [thick("full#p", free=100), thick("empty#p", free=900), thick("half#p", free=500)]
    assert decide(pools, REQ).chosen == "empty#p"


def test_negative_capacity_multiplier_stacks_onto_the_fullest_pool() -> None:
    pools = [thick("full#p", free=100), thick("empty#p", free=900), thick("half#p", free=500)]
    assert decide(pools, REQ, Options(capacity_weight_multiplier=-1.0)).chosen == "full#p"


@pytest.mark.parametrize("value", ["infinite", "unknown"])
def test_unbounded_pools_rank_last_when_spreading(value: str) -> None:
    pools = [pool("big#p", total_capacity_gb=value, free_capacity_gb=value), thick("a#p", 10)]
    assert CapacityWeigher().raw_weights(pools, REQ) == [-1.0, 10]
    assert decide(pools, REQ).chosen == "a#p"


def test_unbounded_pools_rank_last_when_stacking_too() -> None:
    pools = [
        pool("big#p", total_capacity_gb="infinite", free_capacity_gb="infinite"),
        thick("a#p", free=10),
        thick("b#p", free=30),
    ]
    weigher = CapacityWeigher(Options(capacity_weight_multiplier=-1.0))
    # infinity becomes max + (max − min) × 100 = 30 + 2000
    assert weigher.raw_weights(pools, REQ) == [2030, 10, 30]
    assert decide(pools, REQ, Options(capacity_weight_multiplier=-1.0)).chosen == "a#p"


def test_an_unbounded_pool_among_equal_pools_gets_the_minimum_offset() -> None:
    pools = [pool("big#p", free_capacity_gb="unknown"), thick("a#p", 10), thick("b#p", 10)]
    weigher = CapacityWeigher(Options(capacity_weight_multiplier=-2.0))
    assert weigher.raw_weights(pools, REQ) == [10 + OFFSET_MIN, 10, 10]


def test_all_unbounded_pools_do_not_break_stacking() -> None:
    pools = [pool(f"{i}#p", free_capacity_gb="infinite") for i in range(3)]
    decision = decide(pools, REQ, Options(capacity_weight_multiplier=-1.0))
    assert decision.chosen == "0#p"  # equal weights keep fleet order


def test_allocated_capacity_weigher_prefers_the_least_allocated_pool() -> None:
    pools = [
        pool("busy#p", allocated_capacity_gb=900, free_capacity_gb="unknown"),
        pool("idle#p", allocated_capacity_gb=10, free_capacity_gb="unknown"),
    ]
    assert AllocatedCapacityWeigher().multiplier == -1.0
    opts = Options(weighers=["AllocatedCapacityWeigher"])
    assert decide(pools, REQ, opts).chosen == "idle#p"
    opts = Options(weighers=["AllocatedCapacityWeigher"], allocated_capacity_weight_multiplier=1.0)
    assert decide(pools, REQ, opts).chosen == "busy#p"


def test_volume_number_weigher_prefers_the_pool_with_fewest_volumes() -> None:
    pools = [
        pool("many#p", total_volumes=40, free_capacity_gb="unknown"),
        pool("few#p", total_volumes=3, free_capacity_gb="unknown"),
    ]
    opts = Options(weighers=["VolumeNumberWeigher"])
    assert decide(pools, REQ, opts).chosen == "few#p"


def test_volume_number_weigher_prefers_database_counts_when_given() -> None:
    pools = [pool("a#p", total_volumes=0), pool("b#p", total_volumes=50)]
    weigher = VolumeNumberWeigher(Options(volume_counts={"a#p": 9, "b#p": 1}))
    assert weigher.raw_weights(pools, REQ) == [9.0, 1.0]


def test_chance_weigher_is_repeatable_with_a_seeded_random() -> None:
    pools = [pool(f"{i}#p") for i in range(5)]
    first = ChanceWeigher(Options(rng=random.Random(3))).raw_weights(pools, REQ)
    again = ChanceWeigher(Options(rng=random.Random(3))).raw_weights(pools, REQ)
    assert first == again and len(set(first)) == 5


@pytest.mark.parametrize(
    ("function", "rating"),
    [
        ("55", 55.0),
        ("(volume.size < 5) ? 100 : 50", 100.0),
        ("volume.size > 5", 0.0),  # False rates 0
        ("volume.size < 5", 100.0),  # True rates 100
        ("150", 0.0),  # out of range rates 0
        ("0 - 1", 0.0),
        ("capabilities.missing + 1", 0.0),  # an error rates 0
        ("not valid (", 0.0),  # so does a syntax error
        ("'text'", 0.0),  # and a non-number
        ("capabilities.free_capacity_gb", 91.0),  # Cinder truncates variables with int()
    ],
)
def test_goodness_rating_follows_cinder(function: str, rating: float) -> None:
    p = pool("a#p", goodness_function=function, free_capacity_gb=91.8)
    assert goodness_rating(p, Request(size=1)) == rating


def test_goodness_functions_read_stats_extra_specs_and_the_volume() -> None:
    p = pool(
        "a#p",
        total_capacity_gb=400,
        goodness_function=(
            "(stats.total_capacity_gb > 300 and extra.tier == gold) ? volume.size : 1"
        ),
    )
    assert goodness_rating(p, Request(size=42, extra_specs={"tier": "gold"})) == 42.0
    assert goodness_rating(p, Request(size=42, extra_specs={"tier": "lead"})) == 1.0


def test_a_pool_without_a_goodness_function_rates_zero() -> None:
    assert goodness_rating(pool("a#p"), REQ) == 0.0


def test_goodness_tries_every_spelling_of_the_storage_protocol() -> None:
    p = pool(
        "a#p",
        storage_protocol="iSCSI",
        goodness_function="(capabilities.storage_protocol == iscsi) ? 80 : 10",
    )
    assert goodness_rating(p, REQ) == 80.0


def test_goodness_weigher_prefers_the_better_rated_pool() -> None:
    pools = [
        pool("meh#p", goodness_function="40", free_capacity_gb="unknown"),
        pool("good#p", goodness_function="90", free_capacity_gb="unknown"),
    ]
    opts = Options(weighers=["GoodnessWeigher"])
    assert GoodnessWeigher(opts).raw_weights(pools, REQ) == [40.0, 90.0]
    assert decide(pools, REQ, opts).chosen == "good#p"


def test_total_weight_is_the_sum_of_multiplier_times_normalised_weight() -> None:
    pools = [
        thick("a#p", free=100, allocated_capacity_gb=0),
        thick("b#p", free=300, allocated_capacity_gb=50),
        thick("c#p", free=200, allocated_capacity_gb=100),
    ]
    opts = Options(
        weighers=["CapacityWeigher", "AllocatedCapacityWeigher"],
        capacity_weight_multiplier=2.0,
    )
    decision = decide(pools, REQ, opts)
    weights = {item.name: item for item in decision.weighed}
    # capacity normalised a 0, b 1, c .5 (×2); allocated normalised a 0, b .5, c 1 (×−1)
    assert weights["a#p"].weight == pytest.approx(0.0)
    assert weights["b#p"].weight == pytest.approx(2.0 - 0.5)
    assert weights["c#p"].weight == pytest.approx(1.0 - 1.0)
    breakdown = weights["b#p"].per_weigher["AllocatedCapacityWeigher"]
    assert breakdown == {"raw": 50.0, "normalised": 0.5, "weighted": -0.5}
    assert [item.name for item in decision.weighed] == ["b#p", "a#p", "c#p"]


def test_an_unknown_weigher_name_is_refused_like_cinder() -> None:
    with pytest.raises(ValueError, match="Scheduler Host Weigher Nope could not be found"):
        make_weighers(["Nope"], Options())
