"""A decision trace as people read it: the funnel, and one row per pool with its outcome.

Shared by the volume page (its "Scheduler decisions" panel) and the what-if page.
"""

from scheduler.models import DecisionTrace
from scheduler.trace import counts as step_counts


def trace_view(trace: DecisionTrace) -> dict:
    """The funnel (how many pools survived each step) and one row per pool."""
    d = trace.decision or {}
    filters = d.get("filters") or []
    weighed = d.get("weighed") or []
    excluded = d.get("excluded") or {}
    chosen = d.get("chosen") or trace.chosen or ""
    pools: list[str] = list(excluded)
    for step in filters:
        for name in [*step.get("passed", []), *step.get("failed", {})]:
            if name not in pools:
                pools.append(name)
    for w in weighed:
        if w["name"] not in pools:
            pools.append(w["name"])
    # Big fleets store a bounded trace with exact counts (scheduler/trace.py).
    candidates = sum(step_counts(filters[0])) if filters else d.get("weighed_count", len(weighed))
    funnel = [{"label": "candidates", "count": candidates}]
    funnel += [{"label": step["name"], "count": step_counts(step)[0]} for step in filters]
    funnel.append({"label": "weighed", "count": d.get("weighed_count", len(weighed))})
    funnel.append({"label": "chosen", "count": 1 if chosen else 0})
    top = max(candidates, 1)
    for step in funnel:
        step["width"] = round(100 * step["count"] / top, 1)
    by_weight = {w["name"]: w for w in weighed}
    weighers = sorted({k for w in weighed for k in (w.get("per_weigher") or {})})
    rows = []
    for pool in pools:
        cells, outcome = [], ""
        for step in filters:
            failed = step.get("failed", {})
            if pool in failed:
                cells.append({"ok": False, "text": failed[pool]})
                outcome = outcome or f"rejected by {step['name']}"
            elif pool in step.get("passed", []):
                cells.append({"ok": True, "text": "passed"})
            else:
                cells.append({"ok": None, "text": "—"})
        w = by_weight.get(pool)
        if pool in excluded:
            outcome = f"excluded: {excluded[pool]}"
        elif pool == chosen:
            outcome = "chosen"
        elif w is not None:
            outcome = "weighed, not chosen"
        per = (w or {}).get("per_weigher") or {}
        rows.append(
            {
                "pool": pool,
                "cells": cells,
                "weight": w["weight"] if w else None,
                "per_weigher": [per.get(k) for k in weighers],
                "outcome": outcome,
                "chosen": pool == chosen,
            }
        )
    return {
        "trace": trace,
        "attempt": trace.attempt,
        "operation": trace.operation,
        "chosen": chosen,
        "reason": d.get("reason") or "",
        "bounded": d.get("bounded"),  # set for big fleets: a note on what was kept
        "filters": [step["name"] for step in filters],
        "weighers": weighers,
        "funnel": funnel,
        "rows": rows,
        "request": trace.request,
    }


def volume_traces(volume_id) -> dict:
    """The volume page's decisions panel: every attempt's trace, in order."""
    traces = DecisionTrace.objects.filter(volume_id=volume_id).order_by("created_at", "id")
    return {"traces": [trace_view(t) for t in traces]}
