"""decide(), its trace, consume_from_volume and reading fleet files, on a small named fleet."""

import json
from dataclasses import asdict
from typing import Any

import pytest

from scheduler.decision import Decision, consume_from_volume, decide
from scheduler.fleet_file import pool_states
from scheduler.state import Options, PoolState, Request

# A small named world: three LVM backends in two zones, as get_pools?detail=True shows them.
FLEET_JSON: dict[str, Any] = {
    "pools": [
        {
            "name": "node1@lvm-gold#lvm-gold",
            "availability_zone": "az1",
            "capabilities": {
                "volume_backend_name": "lvm-gold",
                "storage_protocol": "iSCSI",
                "total_capacity_gb": 1000,
                "free_capacity_gb": 800,
                "allocated_capacity_gb": 200,
                "provisioned_capacity_gb": 200,
                "reserved_percentage": 0,
                "thin_provisioning_support": False,
                "thick_provisioning_support": True,
                "storage_tier": "gold",
                "total_volumes": 4,
            },
        },
        {
            "name": "node2@lvm-thin#lvm-thin",
            "availability_zone": "az1",
            "capabilities": {
                "volume_backend_name": "lvm-thin",
                "storage_protocol": "iSCSI",
                "total_capacity_gb": 100,
                "free_capacity_gb": 90,
                "allocated_capacity_gb": 300,
                "provisioned_capacity_gb": 300,
                "reserved_percentage": 5,
                "max_over_subscription_ratio": "20.0",
                "thin_provisioning_support": True,
                "thick_provisioning_support": False,
                "storage_tier": "silver",
                "total_volumes": 30,
            },
        },
        {
            "name": "node3@lvm-small#lvm-small",
            "capabilities": {
                "volume_backend_name": "lvm-small",
                "storage_protocol": "iSCSI",
                "total_capacity_gb": 100,
                "free_capacity_gb": 10,
                "provisioned_capacity_gb": 90,
                "reserved_percentage": 5,
                "thin_provisioning_support": False,
                "thick_provisioning_support": True,
                "storage_tier": "bronze",
            },
        },
    ]
}
GOLD, THIN, SMALL = (pool["name"] for pool in FLEET_JSON["pools"])


@pytest.fixture
def fleet() -> list[PoolState]:
    return pool_states(FLEET_JSON)


def test_load_fleet_reads_the_get_pools_shape(fleet: list[PoolState]) -> None:
    gold, thin, small = fleet
    assert gold.name == GOLD and gold.host == "node1@lvm-gold"
    assert gold.availability_zone == "az1"
    assert small.availability_zone == "nova"  # the default zone
    assert thin.capabilities["max_over_subscription_ratio"] == "20.0"


def test_load_fleet_copies_capabilities() -> None:
    fleet = pool_states(FLEET_JSON)
    fleet[0].capabilities["free_capacity_gb"] = 0
    assert FLEET_JSON["pools"][0]["capabilities"]["free_capacity_gb"] == 800


def test_defaults_spread_to_the_pool_with_most_virtual_free(fleet: list[PoolState]) -> None:
    decision = decide(fleet, Request(size=10))
    # virtual free: gold 800 (thick), thin (100 − 5) × 20 − 300 = 1600, small 5 (< 10)
    assert decision.chosen == THIN
    assert [item.name for item in decision.weighed] == [THIN, GOLD]
    assert decision.reason is None


def test_the_trace_records_every_filter_in_order(fleet: list[PoolState]) -> None:
    decision = decide(fleet, Request(size=10))
    assert [step.name for step in decision.filters] == [
        "AvailabilityZoneFilter",
        "CapacityFilter",
        "CapabilitiesFilter",
    ]
    capacity = decision.filters[1]
    assert capacity.passed == [GOLD, THIN]
    assert capacity.failed == {
        SMALL: "needs 10 GiB; virtual free 5 GiB = min(free 10, (100 − 5 reserved)"
        " − 90 provisioned) (thick)"
    }


def test_the_trace_records_each_weighers_share(fleet: list[PoolState]) -> None:
    decision = decide(fleet, Request(size=10))
    best = decision.weighed[0]
    assert best.per_weigher == {
        "CapacityWeigher": {"raw": 1600.0, "normalised": 1.0, "weighted": 1.0}
    }
    assert best.weight == 1.0
    assert decision.weighed[1].per_weigher["CapacityWeigher"]["raw"] == 800.0


def test_a_typed_request_in_a_zone_is_filtered_down(fleet: list[PoolState]) -> None:
    req = Request(
        size=10, availability_zone="az1", extra_specs={"capabilities:storage_tier": "<in> gold"}
    )
    decision = decide(fleet, req)
    assert decision.chosen == GOLD
    zone, _, caps = decision.filters
    assert zone.failed == {SMALL: "availability zone 'nova' is not the requested 'az1'"}
    assert caps.failed == {THIN: "capability storage_tier 'silver' does not match '<in> gold'"}


def test_when_nothing_fits_the_reason_names_the_filter_that_emptied_the_list(
    fleet: list[PoolState],
) -> None:
    decision = decide(fleet, Request(size=100_000))
    assert decision.chosen is None and decision.weighed == []
    assert decision.reason == (
        "No valid backend was found. CapacityFilter rejected all 3 pools. Filter results: "
        "AvailabilityZoneFilter: (start: 3, end: 3), CapacityFilter: (start: 3, end: 0), "
        "CapabilitiesFilter: (start: 0, end: 0)"
    )
    assert set(decision.filters[1].failed) == {GOLD, THIN, SMALL}


def test_the_reason_counts_only_the_pools_left_for_the_emptying_filter(
    fleet: list[PoolState],
) -> None:
    req = Request(size=10, availability_zone="az1", extra_specs={"storage_tier": "platinum"})
    reason = decide(fleet, req).reason
    assert reason is not None
    assert reason.startswith(
        "No valid backend was found. CapabilitiesFilter rejected all 2 remaining pools."
    )


def test_a_single_pool_rejection_reads_naturally(fleet: list[PoolState]) -> None:
    reason = decide(fleet[2:], Request(size=10)).reason
    assert reason is not None and "CapacityFilter rejected the only pool." in reason


def test_an_empty_fleet_has_no_weighed_backends() -> None:
    decision = decide([], Request(size=1))
    assert decision.chosen is None
    assert decision.reason == (
        "No valid backend was found. No weighed backends available: no pools are known."
    )


def test_equal_weights_keep_fleet_order(fleet: list[PoolState]) -> None:
    twins = [
        PoolState(f"twin{i}@b#p", f"twin{i}@b", "nova", fleet[0].capabilities) for i in range(3)
    ]
    assert decide(twins, Request(size=1)).chosen == "twin0@b#p"


def test_retry_with_the_attempted_filter_moves_to_another_pool(fleet: list[PoolState]) -> None:
    opts = Options(filters=[*Options().filters, "IgnoreAttemptedHostsFilter"])
    req = Request(size=10, retry={"num_attempts": 2, "backends": [THIN]})
    decision = decide(fleet, req, opts)
    assert decision.chosen == GOLD
    assert decision.filters[-1].failed == {
        THIN: "already attempted for this volume (this is attempt 2)"
    }


def test_retry_without_the_attempted_filter_may_pick_the_same_pool(
    fleet: list[PoolState],
) -> None:
    req = Request(size=10, retry={"num_attempts": 2, "backends": [THIN]})
    assert decide(fleet, req).chosen == THIN


def test_to_json_has_exactly_the_documented_shape(fleet: list[PoolState]) -> None:
    data = decide(fleet, Request(size=10)).to_json()
    assert list(data) == ["filters", "weighed", "chosen", "elapsed_ms", "reason"]
    assert list(data["filters"][0]) == ["name", "passed", "failed"]
    assert list(data["weighed"][0]) == ["name", "weight", "per_weigher"]
    assert data["chosen"] == THIN and data["reason"] is None
    assert data["elapsed_ms"] > 0
    json.dumps(data)  # plain JSON types only


def test_without_tracing_reasons_and_breakdowns_are_skipped(fleet: list[PoolState]) -> None:
    decision = decide(fleet, Request(size=10), Options(trace=False))
    assert decision.chosen == THIN
    assert decision.filters[1].failed == {SMALL: ""}
    assert all(item.per_weigher == {} for item in decision.weighed)
    assert decision.weighed[0].weight == 1.0


def test_an_unknown_filter_is_an_error(fleet: list[PoolState]) -> None:
    with pytest.raises(ValueError, match="could not be found"):
        decide(fleet, Request(size=1), Options(filters=["RamFilter"]))


def test_no_filters_and_no_weighers_choose_the_first_pool(fleet: list[PoolState]) -> None:
    decision = decide(fleet, Request(size=1), Options(filters=[], weighers=[]))
    assert decision.chosen == GOLD
    assert [item.weight for item in decision.weighed] == [0.0, 0.0, 0.0]


def test_decision_is_a_plain_dataclass(fleet: list[PoolState]) -> None:
    decision = decide(fleet, Request(size=10))
    assert isinstance(decision, Decision)
    assert asdict(decision)["chosen"] == THIN


# --- consume_from_volume ---------------------------------------------------------------


def test_consuming_a_volume_moves_free_allocated_provisioned_and_count() -> None:
    caps = {
        "free_capacity_gb": 100.0,
        "allocated_capacity_gb": 20,
        "provisioned_capacity_gb": 30,
        "total_volumes": 2,
    }
    after = consume_from_volume(caps, 10, thin=False)
    assert after == {
        "free_capacity_gb": 90.0,
        "allocated_capacity_gb": 30,
        "provisioned_capacity_gb": 40,
        "total_volumes": 3,
    }
    assert caps["free_capacity_gb"] == 100.0  # the input is untouched


def test_thin_volumes_also_take_free_capacity_as_in_cinder() -> None:
    after = consume_from_volume({"free_capacity_gb": 50, "allocated_capacity_gb": 0}, 10, thin=True)
    assert after["free_capacity_gb"] == 40


def test_provisioned_starts_from_allocated_when_not_reported() -> None:
    after = consume_from_volume({"free_capacity_gb": 50, "allocated_capacity_gb": 7}, 3, thin=True)
    assert after["provisioned_capacity_gb"] == 10 and after["allocated_capacity_gb"] == 10


@pytest.mark.parametrize("value", ["infinite", "unknown"])
def test_unbounded_free_capacity_is_left_alone(value: str) -> None:
    after = consume_from_volume({"free_capacity_gb": value}, 10, thin=True)
    assert after["free_capacity_gb"] == value
    assert after["allocated_capacity_gb"] == 10


def test_a_negative_size_gives_the_capacity_back() -> None:
    caps = {"free_capacity_gb": 90, "allocated_capacity_gb": 10, "total_volumes": 1}
    taken = consume_from_volume(caps, 10, thin=False)
    assert consume_from_volume(taken, -10, thin=False) == {**caps, "provisioned_capacity_gb": 10}


def test_a_consumed_pool_is_seen_with_its_new_figures(fleet: list[PoolState]) -> None:
    gold = fleet[0]
    assert gold.capacity(thin=False).virtual_free == 800
    gold.capabilities = consume_from_volume(gold.capabilities, 700, thin=False)
    assert gold.capacity(thin=False).virtual_free == 100
    assert decide([gold], Request(size=200)).chosen is None


def test_the_capacity_memo_stays_out_of_repr_equality_and_asdict(fleet: list[PoolState]) -> None:
    gold = fleet[0]
    twin = PoolState(gold.name, gold.host, gold.availability_zone, gold.capabilities)
    gold.capacity()
    assert gold == twin
    assert "_capacity=" not in repr(gold)
    assert set(asdict(gold)) == {"name", "host", "availability_zone", "capabilities"}
