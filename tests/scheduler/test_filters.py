"""Each filter rule as Cinder documents it, with the reasons a person would read."""

from dataclasses import replace
from typing import Any

import pytest

from scheduler.decision import decide
from scheduler.filters import (
    FAIL,
    PASS,
    AvailabilityZoneFilter,
    CapabilitiesFilter,
    CapacityFilter,
    DriverFilter,
    IgnoreAttemptedHostsFilter,
    Verdict,
    make_filters,
)
from scheduler.state import Options, PoolState, Request


def pool(name: str = "node1@lvm#lvm", zone: str = "nova", **caps: Any) -> PoolState:
    return PoolState(
        name=name, host=name.partition("#")[0], availability_zone=zone, capabilities=caps
    )


def thick(total: float = 100, free: float = 100, provisioned: float = 0, **caps: Any) -> PoolState:
    return pool(
        total_capacity_gb=total,
        free_capacity_gb=free,
        provisioned_capacity_gb=provisioned,
        thin_provisioning_support=False,
        thick_provisioning_support=True,
        **caps,
    )


def thin(
    total: float = 100, free: float = 100, provisioned: float = 0, ratio: Any = "20.0", **caps: Any
) -> PoolState:
    return pool(
        total_capacity_gb=total,
        free_capacity_gb=free,
        provisioned_capacity_gb=provisioned,
        thin_provisioning_support=True,
        thick_provisioning_support=False,
        max_over_subscription_ratio=ratio,
        **caps,
    )


def capacity(p: PoolState, size: int, opts: Options | None = None, **spec: str) -> Verdict:
    return CapacityFilter(opts).backend_passes(p, Request(size=size, extra_specs=spec))


# --- AvailabilityZoneFilter ------------------------------------------------------------


def test_no_requested_zone_passes_every_pool() -> None:
    assert AvailabilityZoneFilter().backend_passes(pool(zone="az9"), Request(size=1)).passed


def test_a_pool_in_the_requested_zone_passes() -> None:
    req = Request(size=1, availability_zone="az1")
    assert AvailabilityZoneFilter().backend_passes(pool(zone="az1"), req) == PASS


def test_a_pool_in_another_zone_fails_and_says_which() -> None:
    verdict = AvailabilityZoneFilter().backend_passes(
        pool(zone="az2"), Request(size=1, availability_zone="az1")
    )
    assert not verdict.passed
    assert verdict.reason == "availability zone 'az2' is not the requested 'az1'"


def test_a_type_zone_list_wins_over_the_volume_zone() -> None:
    req = Request(size=1, availability_zone="az1", availability_zones=["az2", "az3"])
    flt = AvailabilityZoneFilter()
    assert flt.backend_passes(pool(zone="az3"), req).passed
    verdict = flt.backend_passes(pool(zone="az1"), req)
    assert verdict.reason == "availability zone 'az1' not in [az2, az3]"


# --- CapacityFilter: thick -------------------------------------------------------------


def test_thick_pool_with_room_passes() -> None:
    assert capacity(thick(total=100, free=50, provisioned=50), 10).passed


def test_thick_virtual_free_is_the_smaller_of_reported_free_and_calculated_free() -> None:
    # calculated: (100 − 5 reserved) − 91.8 = 3.2; reported free 10 does not help
    verdict = capacity(thick(total=100, free=10, provisioned=91.8, reserved_percentage=5), 10)
    assert verdict.reason == (
        "needs 10 GiB; virtual free 3.2 GiB = min(free 10, (100 − 5 reserved)"
        " − 91.8 provisioned) (thick)"
    )
    # and a low reported free limits even when the calculation has room
    verdict = capacity(thick(total=100, free=4, provisioned=0), 10)
    assert verdict.reason.startswith("needs 10 GiB; virtual free 4 GiB = min(free 4,")


def test_thick_exact_fit_passes() -> None:
    assert capacity(thick(total=100, free=10, provisioned=90), 10).passed


def test_reserved_capacity_is_floored_in_cinders_float_order() -> None:
    # 100 × (29 / 100) is 28.999999999999996 in floating point, so Cinder reserves 28.
    p = thick(total=100, free=100, provisioned=62, reserved_percentage=29)
    assert p.capacity(thin=False).reserved == 28
    assert capacity(p, 10).passed  # (100 − 28) − 62 = 10


def test_thin_request_on_a_thick_only_pool_uses_thick_maths() -> None:
    p = pool(total_capacity_gb=100, free_capacity_gb=5, provisioned_capacity_gb=0)
    verdict = capacity(p, 10)
    assert "(thick)" in verdict.reason and "min(free 5" in verdict.reason


# --- CapacityFilter: thin -------------------------------------------------------------


def test_thin_virtual_free_applies_the_ratio_and_ignores_reported_free() -> None:
    # (100 − 0) × 20 − 1500 = 500 GiB of virtual room although nothing is free
    assert capacity(thin(total=100, free=0, provisioned=1500), 500).passed


def test_thin_pool_without_room_fails_with_the_arithmetic() -> None:
    verdict = capacity(thin(total=100, free=90, provisioned=1995, reserved_percentage=5), 10)
    assert verdict.reason == (
        "needs 10 GiB; virtual free -95 GiB = (100 − 5 reserved) × 20 − 1995 provisioned (thin)"
    )


def test_provisioning_type_thick_on_a_thin_pool_uses_reported_free() -> None:
    p = thin(total=100, free=5, provisioned=0)
    assert capacity(p, 10).passed
    verdict = capacity(p, 10, **{"provisioning:type": "thick"})
    assert "(thick)" in verdict.reason and "min(free 5" in verdict.reason


def test_a_missing_ratio_uses_the_global_option() -> None:
    p = thin(total=100, free=100, provisioned=0, ratio=None)
    assert capacity(p, 2000).passed  # 100 × 20
    assert not capacity(p, 2000, Options(max_over_subscription_ratio="1.5")).passed
    assert capacity(p, 150, Options(max_over_subscription_ratio="1.5")).passed


def test_a_reported_ratio_of_zero_falls_back_to_the_global_option() -> None:
    assert capacity(thin(total=100, provisioned=0, ratio=0), 2000).passed


def test_auto_ratio_is_twenty_before_anything_is_provisioned() -> None:
    p = thin(total=100, free=100, provisioned=0, ratio="auto")
    assert p.capacity().mosr == 20
    assert capacity(p, 2000).passed


def test_auto_ratio_is_one_plus_provisioned_over_used_plus_one() -> None:
    # used = 100 − 60 = 40; ratio = 1 + 200 / 41
    p = thin(total=100, free=60, provisioned=200, ratio="auto")
    assert p.capacity().mosr == pytest.approx(1 + 200 / 41)


def test_a_ratio_below_one_fails_thin_requests() -> None:
    verdict = capacity(thin(total=100, provisioned=0, ratio="0.5"), 10)
    assert verdict.reason == "invalid max over-subscription ratio 0.5 (must be at least 1.0)"


def test_the_ratio_is_ignored_without_thin_support() -> None:
    p = thick(total=100, free=100, max_over_subscription_ratio="0.5")
    assert capacity(p, 10).passed


def test_the_provisioned_ratio_check_can_bind_when_rounding_favours_virtual_free() -> None:
    # total_available rounds to 100.0 while virtual free rounds up to exactly 10.0,
    # so (90.004 + 10) / 100.0 = 1.00004 exceeds the ratio 1.0 and Cinder refuses.
    p = thin(total=100.004, free=100, provisioned=90.004, ratio="1.0")
    verdict = capacity(p, 10)
    assert not verdict.passed
    assert "provisioned ratio 1.00 would exceed max over-subscription ratio 1.00" in verdict.reason


# --- CapacityFilter: special reports ----------------------------------------------------


@pytest.mark.parametrize("value", ["infinite", "unknown"])
def test_infinite_or_unknown_free_capacity_always_passes(value: str) -> None:
    assert capacity(pool(total_capacity_gb=10, free_capacity_gb=value), 10_000).passed


@pytest.mark.parametrize("value", ["infinite", "unknown"])
def test_infinite_total_passes_only_without_reserved_space(value: str) -> None:
    assert capacity(pool(total_capacity_gb=value, free_capacity_gb=10), 1000).passed
    verdict = capacity(pool(total_capacity_gb=value, free_capacity_gb=10, reserved_percentage=5), 1)
    assert verdict.reason == f"total capacity is {value!r}, so 5% reserved cannot be computed"


def test_unset_free_capacity_fails() -> None:
    verdict = capacity(pool(total_capacity_gb=100, free_capacity_gb=None), 1)
    assert verdict.reason == "free capacity not set: volume node info collection broken"


def test_zero_total_capacity_fails() -> None:
    assert capacity(thick(total=0, free=0), 1).reason == "total capacity is 0 GiB"


def test_a_manage_request_of_size_zero_always_passes() -> None:
    assert capacity(pool(total_capacity_gb=0, free_capacity_gb=None), 0).passed


def test_missing_figures_default_like_cinder() -> None:
    # free and total default to 0; provisioned defaults to allocated
    assert not capacity(pool(), 1).passed
    p = pool(total_capacity_gb=100, free_capacity_gb=100, allocated_capacity_gb=95)
    assert p.capacity(thin=False).provisioned == 95
    assert not capacity(p, 10).passed


def test_numbers_reported_as_text_are_read() -> None:
    assert capacity(thick(total="100", free="50", provisioned="50"), 10).passed


def test_junk_figures_fail_with_the_problem() -> None:
    verdict = capacity(thin(total=100, ratio="lots"), 1)
    assert verdict.reason == (
        "capacity report unusable: max_over_subscription_ratio 'lots' is not a number or 'auto'"
    )
    assert "is not a number" in capacity(thick(provisioned=[1]), 1).reason


def test_without_tracing_failures_carry_no_reason() -> None:
    verdict = capacity(thick(total=10, free=1), 10, Options(trace=False))
    assert verdict is FAIL and verdict.reason == ""


# --- CapabilitiesFilter ----------------------------------------------------------------


def capabilities(p: PoolState, **spec: str) -> Verdict:
    return CapabilitiesFilter().backend_passes(p, Request(size=1, extra_specs=spec))


def test_no_extra_specs_pass_every_pool() -> None:
    assert capabilities(pool()) == PASS


def test_an_unscoped_key_is_matched_against_the_capability() -> None:
    p = pool(volume_backend_name="lvm-1")
    assert capabilities(p, volume_backend_name="lvm-1").passed
    verdict = capabilities(p, volume_backend_name="lvm-2")
    assert verdict.reason == "capability volume_backend_name 'lvm-1' does not match 'lvm-2'"


def test_a_capabilities_scoped_key_is_matched_without_its_prefix() -> None:
    verdict = capabilities(
        pool(storage_tier="silver"), **{"capabilities:storage_tier": "<in> gold"}
    )
    assert verdict.reason == "capability storage_tier 'silver' does not match '<in> gold'"


@pytest.mark.parametrize(
    "key", ["provisioning:type", "RESKEY:availability_zones", "vendor:feature", "qos:maxIOPS"]
)
def test_keys_in_other_scopes_are_ignored(key: str) -> None:
    assert capabilities(pool(), **{key: "anything"}).passed


def test_further_colons_walk_nested_capabilities() -> None:
    p = pool(replication={"mode": "async"})
    assert capabilities(p, **{"capabilities:replication:mode": "async"}).passed
    assert not capabilities(p, **{"capabilities:replication:mode": "sync"}).passed


def test_a_missing_capability_fails() -> None:
    verdict = capabilities(pool(), **{"capabilities:raid": "<is> True"})
    assert verdict.reason == "capability raid is not reported (wants capabilities:raid='<is> True')"
    flat = pool(replication="flat")
    assert not capabilities(flat, **{"capabilities:replication:mode": "x"}).passed


def test_a_list_capability_passes_when_any_element_matches() -> None:
    p = pool(tiers=["bronze", "gold"])
    assert capabilities(p, tiers="gold").passed
    assert not capabilities(p, tiers="silver").passed


def test_storage_protocol_matches_any_of_its_spellings() -> None:
    p = pool(storage_protocol="iSCSI")
    assert capabilities(p, storage_protocol="iscsi").passed
    assert capabilities(pool(storage_protocol="fc"), storage_protocol="fibre_channel").passed
    verdict = capabilities(p, storage_protocol="FC")
    assert verdict.reason == "capability storage_protocol ['iSCSI', 'iscsi'] does not match 'FC'"


def test_a_boolean_capability_needs_the_is_operator() -> None:
    p = pool(multiattach=True)
    assert not capabilities(p, multiattach="True").passed
    assert capabilities(p, multiattach="<is> True").passed


def test_every_spec_must_match() -> None:
    p = pool(volume_backend_name="lvm-1", storage_tier="gold")
    assert capabilities(p, volume_backend_name="lvm-1", storage_tier="gold").passed
    assert not capabilities(p, volume_backend_name="lvm-1", storage_tier="silver").passed


@pytest.mark.parametrize(
    ("value", "spec", "passes"),
    [
        (100, "= 50", True),
        (100, "== 100", True),
        (100, "!= 100", False),
        (100, ">= 101", False),
        (100, "<= 100", True),
        ("gold", "s== gold", True),
        ("gold", "s!= gold", False),
        ("gold", "s< silver", True),
        ("gold", "s<= gold", True),
        ("gold", "s> silver", False),
        ("gold", "s>= gold", True),
        ("gold-fast", "<in> fast", True),
        (False, "<is> False", True),
        ("gold", "<or> silver <or> gold", True),
        ("bronze", "<or> silver <or> gold", False),
    ],
)
def test_every_operator_works_through_the_filter(value: Any, spec: str, passes: bool) -> None:
    assert capabilities(pool(tier=value), **{"capabilities:tier": spec}).passed is passes


# --- IgnoreAttemptedHostsFilter, DriverFilter, registry ------------------------------


def test_ignore_attempted_hosts_is_not_a_default_filter() -> None:
    assert "IgnoreAttemptedHostsFilter" not in Options().filters


def test_ignore_attempted_hosts_skips_pools_already_tried() -> None:
    req = Request(size=1, retry={"num_attempts": 2, "backends": ["node1@lvm#lvm"]})
    flt = IgnoreAttemptedHostsFilter()
    verdict = flt.backend_passes(pool("node1@lvm#lvm"), req)
    assert verdict.reason == "already attempted for this volume (this is attempt 2)"
    assert flt.backend_passes(pool("node2@lvm#lvm"), req).passed


def test_ignore_attempted_hosts_reads_the_legacy_hosts_list() -> None:
    req = Request(size=1, retry={"num_attempts": 2, "hosts": ["node1@lvm#lvm"]})
    assert not IgnoreAttemptedHostsFilter().backend_passes(pool("node1@lvm#lvm"), req).passed


def test_without_retry_every_pool_passes_the_attempted_filter() -> None:
    assert IgnoreAttemptedHostsFilter().backend_passes(pool(), Request(size=1)).passed


def test_driver_filter_uses_the_backend_filter_function() -> None:
    small_only = pool(filter_function="volume.size < 10")
    flt = DriverFilter()
    assert flt.backend_passes(small_only, Request(size=5)).passed
    verdict = flt.backend_passes(small_only, Request(size=50))
    assert verdict.reason == "filter_function 'volume.size < 10' is false"
    assert flt.backend_passes(pool(), Request(size=50)).passed  # no function: pass


def test_driver_filter_fails_a_broken_filter_function() -> None:
    verdict = DriverFilter().backend_passes(pool(filter_function="stats.nope > 1"), Request(size=1))
    assert verdict.reason.startswith("filter_function 'stats.nope > 1' failed:")


def test_an_unknown_filter_name_is_refused_like_cinder() -> None:
    with pytest.raises(ValueError, match="Scheduler Host Filter NoSuchFilter could not be found"):
        make_filters(["CapacityFilter", "NoSuchFilter"], Options())


def test_batch_filtering_gives_the_same_answers_as_one_pool_at_a_time() -> None:
    pools = [
        replace(p, name=f"node{i}@lvm#lvm")
        for i, p in enumerate(
            [
                thick(total=100, free=50),
                thin(total=10, provisioned=500),
                pool(total_capacity_gb=10, free_capacity_gb="unknown"),
                pool(total_capacity_gb=10, free_capacity_gb=None),
            ]
        )
    ]
    req = Request(size=20)
    flt = CapacityFilter()
    kept, names, failed = flt.filter_all(pools, req)
    for p in pools:
        verdict = flt.backend_passes(p, req)
        assert (p in kept) is verdict.passed
        assert failed.get(p.name, "") == verdict.reason
    assert names == [p.name for p in kept]


def test_a_hostile_filter_function_fails_only_its_own_pool() -> None:
    """One backend's text must not stall or break scheduling for the others."""
    product = " * ".join(["3 ^ 600"] * 120)  # each step fits; the product would not
    nested = "(" * 200 + "1" + ")" * 200
    fleet = [
        pool("huge@lvm#lvm", filter_function=product),
        pool("deep@lvm#lvm", filter_function=nested),
        pool("fine@lvm#lvm", filter_function="volume.size < 100"),
    ]
    opts = Options(filters=["DriverFilter"])

    decision = decide(fleet, Request(size=1), opts)

    failed = decision.filters[0].failed
    assert "wider than 1024 bits" in failed["huge@lvm#lvm"]
    assert "nested too deeply" in failed["deep@lvm#lvm"]
    assert decision.chosen == "fine@lvm#lvm"
