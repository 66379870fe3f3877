"""What-if: a scheduling decision over the live fleet, with nothing created or consumed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scheduler import driver, host_manager, trace
from scheduler.decision import Decision, decide
from scheduler.models import DecisionTrace
from scheduler.state import Request


@dataclass
class Outcome:
    decision: Decision
    record: dict[str, Any]  # what a DecisionTrace row would hold
    excluded: dict[str, str]
    request: dict[str, Any]

    def as_trace(self) -> DecisionTrace:
        """An unsaved DecisionTrace, so the volume page's trace partial can show it."""
        return DecisionTrace(
            attempt=1,
            request=self.request,
            decision=self.record,
            chosen=self.decision.chosen or "",
        )


def zones_for(extra_specs: dict[str, str], zone: str | None) -> list[str] | None:
    """The type's ``RESKEY:availability_zones`` (narrowed to ``zone`` when one is picked)."""
    spec = extra_specs.get("RESKEY:availability_zones")
    if not spec:
        return None
    allowed = [z.strip() for z in spec.split(",") if z.strip()]
    return [zone] if zone and zone in allowed else allowed


def run(size: int, extra_specs: dict[str, str], zone: str | None) -> Outcome:
    """Decide as the scheduler would now, over the pools of up, enabled backends."""
    pools, excluded = host_manager.pool_states()
    req = Request(
        size=size,
        extra_specs=extra_specs,
        availability_zone=zone or None,
        availability_zones=zones_for(extra_specs, zone),
    )
    decision = decide(pools, req, driver.options())
    if decision.chosen is None and excluded:
        decision.reason = driver.excluded_reason(excluded, decision.reason if pools else None)
    request = {
        "size": size,
        "extra_specs": extra_specs,
        "availability_zones": [zone] if zone else [],
    }
    return Outcome(decision, trace.record(decision, excluded), excluded, request)
