"""What a DecisionTrace row stores: everything for a small fleet, a bounded summary for a big one.

A decision over a few dozen pools is stored whole (``Decision.to_json`` plus
the excluded pools). Over a thousand pools that record is large and costly to
serialise (about 5 ms of ``json.dumps`` for 1,000 pools), so above
``FULL_TRACE_POOLS`` the record keeps:

- every filter's exact ``passed_count`` and ``failed_count``;
- every failure, grouped by its reason with the numbers masked ("needs N GiB;
  virtual free N GiB = …"), each group with its count, one full example reason
  and a few example pools, so no failure goes unaccounted for;
- the first ``SAMPLE`` passed and failed pools with their exact reasons;
- the best ``TOP_WEIGHED`` weighed pools (with per-weigher figures) and the
  total ``weighed_count``;
- the same grouping for pools excluded before filtering (down or disabled).

``bounded`` says so, and the pages show it.
"""

from __future__ import annotations

import re
from itertools import islice
from typing import Any

from scheduler.decision import Decision

FULL_TRACE_POOLS = 100
TOP_WEIGHED = 25
SAMPLE = 25
MAX_GROUPS = 30
EXAMPLES_PER_GROUP = 3

# A number standing alone (not part of a name such as az2 or node3@lvm-1).
_NUMBER = re.compile(r"(?<![\w.@#-])-?\d+(?:\.\d+)?(?![\w.@#])")


def record(decision: Decision, excluded: dict[str, str]) -> dict[str, Any]:
    """The JSON a DecisionTrace row keeps for ``decision`` (see the module docstring)."""
    fleet = len(excluded) + (
        len(decision.filters[0].passed) + len(decision.filters[0].failed)
        if decision.filters
        else len(decision.weighed)
    )
    if fleet <= FULL_TRACE_POOLS:
        data = decision.to_json()
        if excluded:
            data["excluded"] = dict(excluded)
        return data
    return bounded(decision, excluded, fleet)


def bounded(decision: Decision, excluded: dict[str, str], fleet: int) -> dict[str, Any]:
    filters = []
    for step in decision.filters:
        filters.append(
            {
                "name": step.name,
                "passed": step.passed[:SAMPLE],
                "passed_count": len(step.passed),
                "failed": dict(islice(step.failed.items(), SAMPLE)),
                "failed_count": len(step.failed),
                "failed_groups": group_reasons(step.failed),
            }
        )
    weighed = [
        {
            "name": item.name,
            "weight": item.weight,
            "per_weigher": {k: dict(v) for k, v in item.per_weigher.items()},
        }
        for item in decision.weighed[:TOP_WEIGHED]
    ]
    data: dict[str, Any] = {
        "filters": filters,
        "weighed": weighed,
        "weighed_count": len(decision.weighed),
        "chosen": decision.chosen,
        "elapsed_ms": decision.elapsed_ms,
        "reason": decision.reason,
        "bounded": {
            "pools": fleet,
            "top_weighed": TOP_WEIGHED,
            "sample": SAMPLE,
            "note": (
                f"{fleet} pools: this trace keeps exact counts, every failure grouped by "
                f"reason, {SAMPLE} example pools per step and the best {TOP_WEIGHED} "
                "weighed pools."
            ),
        },
    }
    if excluded:
        data["excluded"] = dict(islice(excluded.items(), SAMPLE))
        data["excluded_count"] = len(excluded)
        data["excluded_groups"] = group_reasons(excluded)
    return data


def shape(reason: str) -> str:
    """A reason with its standalone numbers masked, so like failures group together."""
    return _NUMBER.sub("N", reason)


def group_reasons(failed: dict[str, str]) -> list[dict[str, Any]]:
    """Failures grouped by reason shape, largest group first; counts always sum to the total."""
    groups: dict[str, dict[str, Any]] = {}
    for pool, reason in failed.items():
        key = shape(reason)
        group = groups.get(key)
        if group is None:
            groups[key] = {"reason": key, "example": reason, "count": 1, "pools": [pool]}
        else:
            group["count"] += 1
            if len(group["pools"]) < EXAMPLES_PER_GROUP:
                group["pools"].append(pool)
    ordered = sorted(groups.values(), key=lambda g: -g["count"])
    if len(ordered) > MAX_GROUPS:
        rest = ordered[MAX_GROUPS - 1 :]
        other = {
            "reason": f"{len(rest)} other reasons",
            "example": rest[0]["example"],
            "count": sum(g["count"] for g in rest),
            "pools": [p for g in rest[:EXAMPLES_PER_GROUP] for p in g["pools"][:1]],
        }
        ordered = [*ordered[: MAX_GROUPS - 1], other]
    return ordered


def counts(step: dict[str, Any]) -> tuple[int, int]:
    """(passed, failed) for a stored filter step, bounded or whole."""
    passed = step.get("passed_count", len(step.get("passed") or []))
    failed = step.get("failed_count", len(step.get("failed") or {}))
    return passed, failed
