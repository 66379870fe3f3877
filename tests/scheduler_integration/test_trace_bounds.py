"""What a DecisionTrace keeps: all of a small fleet, exact counts and groups for a big one."""

import json

from scheduler import trace
from scheduler.decision import decide
from scheduler.fleet_file import pool_states
from scheduler.state import Request
from tests.scheduler_integration.support import fleet_file, lvm_caps


def big_fleet(count: int) -> dict:
    data = fleet_file(count)
    for i, entry in enumerate(data["pools"]):
        if i % 4 == 0:
            entry["availability_zone"] = "az2"
        if i % 4 == 1:
            entry["capabilities"] = lvm_caps(10.0 + i % 7, 1.0)
    return data


def test_a_small_fleet_keeps_the_whole_trace():
    decision = decide(pool_states(fleet_file(3)), Request(size=1))

    record = trace.record(decision, {"x@y#z": "backend down: last heartbeat never"})

    assert "bounded" not in record
    assert record["filters"] == decision.to_json()["filters"]
    assert record["excluded"] == {"x@y#z": "backend down: last heartbeat never"}


def test_a_big_fleet_keeps_exact_counts_and_accounts_for_every_failure():
    pools = pool_states(big_fleet(1000))
    decision = decide(pools, Request(size=5, availability_zone="nova"))

    record = trace.record(decision, {})

    assert record["bounded"]["pools"] == 1000
    for stored, step in zip(record["filters"], decision.filters, strict=True):
        assert stored["passed_count"] == len(step.passed)
        assert stored["failed_count"] == len(step.failed)
        assert sum(g["count"] for g in stored["failed_groups"]) == len(step.failed)
        assert len(stored["passed"]) <= trace.SAMPLE
    zone_groups = record["filters"][0]["failed_groups"]
    assert [(g["reason"], g["count"]) for g in zone_groups] == [
        ("availability zone 'az2' is not the requested 'nova'", 250)
    ]
    capacity_groups = record["filters"][1]["failed_groups"]
    assert len(capacity_groups) == 1 and capacity_groups[0]["count"] == 250
    assert capacity_groups[0]["reason"].startswith("needs N GiB; virtual free N GiB")
    assert record["weighed_count"] == len(decision.weighed) == 500
    assert [w["name"] for w in record["weighed"]] == [
        w.name for w in decision.weighed[: trace.TOP_WEIGHED]
    ]
    assert record["chosen"] == decision.chosen


def test_a_bounded_trace_is_a_small_fraction_of_the_whole():
    decision = decide(pool_states(big_fleet(1000)), Request(size=5))

    whole = len(json.dumps(decision.to_json()))
    bounded = len(json.dumps(trace.record(decision, {})))

    assert bounded < whole / 10


def test_names_with_digits_are_not_masked_in_groups():
    assert trace.shape("availability zone 'az2' is not node3@lvm-1") == (
        "availability zone 'az2' is not node3@lvm-1"
    )
    assert trace.shape("needs 10 GiB; virtual free 3.2 GiB") == "needs N GiB; virtual free N GiB"
