"""What the volume pages show, built once for the page, the fragment and the socket.

Everything here is computed from the recorded rows (FlowRun/TaskRun,
DecisionTrace, notifications, user messages), so the page, the polling
fragment and every websocket message show the same full picture.
"""

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from django.utils import timezone

from agent.flows import get_flow as manager_flow
from portal.models import FlowRun, TaskRun
from scheduler.flows import get_flow as scheduler_flow
from scheduler.models import DecisionTrace
from scheduler.trace import counts as step_counts
from volumes.flows import get_flow as api_flow
from volumes.models import Notification, UserMessage, Volume

# Flows that run once per scheduling attempt (the API flow runs once per request).
PER_ATTEMPT = ("scheduler", "manager")


@cache
def planned_tasks() -> dict[str, list[str]]:
    """Each flow's task class names in order, read off the flows themselves."""
    flows = {"api": api_flow(), "scheduler": scheduler_flow(), "manager": manager_flow(None, "")}
    return {key: [type(t).__name__ for t, _ in flow.iter_nodes()] for key, flow in flows.items()}


def task_dom_id(flow: str, attempt: int, name: str) -> str:
    """Stable across renders (and from planned to real), so the page can keep a task open."""
    return f"task-{flow}-{attempt}-{name}"


@dataclass
class TaskView:
    flow: str
    attempt: int
    name: str
    row: TaskRun | None = None

    @property
    def dom_id(self) -> str:
        return task_dom_id(self.flow, self.attempt, self.name)

    @property
    def state(self) -> str:
        return self.row.state if self.row else "pending"

    def __getattr__(self, item):  # started_at, inputs, commands... from the row
        row = self.__dict__.get("row")
        if row is None:
            raise AttributeError(item)
        return getattr(row, item)

    @property
    def revert_duration(self) -> float | None:
        row = self.row
        if row and row.revert_started_at and row.revert_ended_at:
            return (row.revert_ended_at - row.revert_started_at).total_seconds()
        return None


@dataclass
class AttemptView:
    flow: str
    attempt: int
    run: FlowRun | None
    tasks: list[TaskView] = field(default_factory=list)

    @property
    def dom_id(self) -> str:
        return f"run-{self.flow}-{self.attempt}"

    @property
    def state(self) -> str:
        return self.run.state if self.run else "pending"


def _attempt_view(flow: str, attempt: int, run: FlowRun | None) -> AttemptView:
    rows = {t.name: t for t in run.tasks.all()} if run else {}
    names = [t.name for t in sorted(rows.values(), key=lambda t: t.position)] or planned_tasks()[
        flow
    ]
    tasks = [TaskView(flow, attempt, name, rows.get(name)) for name in names]
    return AttemptView(flow, attempt, run, tasks)


def build_lanes(volume: Volume, runs: list[FlowRun]) -> list[dict]:
    """Three lanes; each attempt its own row; what is still to come shown as pending.

    While the volume is still being created, a lane that has not reached the
    latest attempt shows that attempt's tasks pending, so the whole planned
    flow is on the page from the start.
    """
    latest = max([r.attempt for r in runs if r.flow in PER_ATTEMPT], default=1)
    lanes = []
    for flow, label in FlowRun.FLOWS:
        mine = [r for r in runs if r.flow == flow]
        attempts = [_attempt_view(flow, r.attempt, r) for r in mine]
        if volume.is_transitional:
            expected = latest if flow in PER_ATTEMPT else 1
            done = {a.attempt for a in attempts}
            if expected not in done and (not done or max(done) < expected):
                attempts.append(_attempt_view(flow, expected, None))
        lanes.append({"flow": flow, "label": label, "attempts": attempts})
    return lanes


# -- timeline ---------------------------------------------------------------

TICK_STEPS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600]


def _pct(at: datetime, start: datetime, span: float) -> float:
    return round(100 * (at - start).total_seconds() / span, 3)


def build_gantt(lanes: list[dict], now: datetime) -> dict | None:
    """Bars of every task's forward and revert spans on one real time axis."""
    times = []
    for lane in lanes:
        for attempt in lane["attempts"]:
            for task in attempt.tasks:
                row = task.row
                if row is None:
                    continue
                times += [
                    t
                    for t in (
                        row.started_at,
                        row.ended_at,
                        row.revert_started_at,
                        row.revert_ended_at,
                    )
                    if t
                ]
    if not times:
        return None
    start = min(times)
    running = any(
        t.state in ("running", "reverting")
        for lane in lanes
        for a in lane["attempts"]
        for t in a.tasks
    )
    end = max(max(times), now) if running else max(times)
    span = max((end - start).total_seconds(), 0.001)
    rows = []
    for lane in lanes:
        for attempt in lane["attempts"]:
            for task in attempt.tasks:
                row = task.row
                bars = []
                if row and row.started_at:
                    until = row.ended_at or (now if row.state == "running" else row.started_at)
                    bars.append(("forward", row.started_at, until))
                if row and row.revert_started_at:
                    until = row.revert_ended_at or now
                    bars.append(("revert", row.revert_started_at, until))
                rows.append(
                    {
                        "task": task,
                        "bars": [
                            {
                                "kind": kind,
                                "left": _pct(a, start, span),
                                "width": max(_pct(b, start, span) - _pct(a, start, span), 0.4),
                                "seconds": (b - a).total_seconds(),
                            }
                            for kind, a, b in bars
                        ],
                    }
                )
    step = next((s for s in TICK_STEPS if span / s <= 8), TICK_STEPS[-1])
    ticks = []
    at = 0.0
    while at <= span + 1e-9:
        ticks.append({"left": round(100 * at / span, 3), "label": _seconds_label(at, step)})
        at += step
    return {"rows": rows, "ticks": ticks, "span": span, "start": start}


def _seconds_label(value: float, step: float) -> str:
    if step < 0.1:
        return f"{value:.2f} s"
    if step < 1:
        return f"{value:.1f} s"
    return f"{value:.0f} s"


# -- scheduler decision trace -------------------------------------------------


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
        "chosen": chosen,
        "reason": d.get("reason") or "",
        "bounded": d.get("bounded"),  # set for big fleets: a note on what was kept
        "filters": [step["name"] for step in filters],
        "weighers": weighers,
        "funnel": funnel,
        "rows": rows,
        "request": trace.request,
    }


# -- history ------------------------------------------------------------------


def build_history(runs: list[FlowRun], notifications, user_messages) -> list[dict]:
    """Flow starts and ends, notifications and user messages, in time order."""
    entries = []
    for run in runs:
        where = f" on {run.host}" if run.host else ""
        name = f"{run.flow_name or run.get_flow_display()} attempt {run.attempt}"
        if run.started_at:
            entries.append(
                {
                    "at": run.started_at,
                    "kind": "flow",
                    "icon": "▶",
                    "text": f"{name} started{where}",
                }
            )
        if run.ended_at:
            entries.append(
                {"at": run.ended_at, "kind": "flow", "icon": "■", "text": f"{name} {run.state}"}
            )
    for n in notifications:
        entries.append(
            {
                "at": n.created_at,
                "kind": "notification",
                "icon": "✉",
                "text": n.event_type,
                "detail": f"from {n.publisher_id} ({n.priority})",
                "event": n.event_type,
            }
        )
    for m in user_messages:
        entries.append(
            {
                "at": m.created_at,
                "kind": "message",
                "icon": "⚠",
                "text": m.user_message,
                "detail": m.event_id,
            }
        )
    entries.sort(key=lambda e: e["at"])
    return entries


# -- replay -------------------------------------------------------------------


def replay_script(volume: Volume, lanes: list[dict]) -> dict | None:
    """Every stored transition of a finished volume, as offsets from its first one (JSON)."""
    if volume.is_transitional:
        return None
    steps = []
    for lane in lanes:
        for attempt in lane["attempts"]:
            if attempt.run is None:
                return None
            run = attempt.run
            if run.started_at:
                steps.append((run.started_at.isoformat(), attempt.dom_id, "running"))
            if run.ended_at:
                steps.append((run.ended_at.isoformat(), attempt.dom_id, run.state))
            for task in attempt.tasks:
                for h in (task.row.history if task.row else []) or []:
                    steps.append((h["at"], task.dom_id, h["state"]))
    if not steps:
        return None
    parsed = [(datetime.fromisoformat(at), dom_id, state) for at, dom_id, state in steps]
    start = min(p[0] for p in parsed)
    events = sorted(
        (
            {"t": round((at - start).total_seconds() * 1000, 1), "id": i, "state": s}
            for at, i, s in parsed
        ),
        key=lambda e: e["t"],
    )
    return {
        "status": volume.status,
        "start_ms": round(start.timestamp() * 1000, 1),
        "duration_ms": events[-1]["t"],
        "events": events,
    }


def volume_context(volume: Volume) -> dict:
    runs = list(
        FlowRun.objects.filter(volume_id=volume.id).order_by("created_at").prefetch_related("tasks")
    )
    lanes = build_lanes(volume, runs)
    user_messages = list(UserMessage.objects.filter(resource_uuid=volume.id).order_by("created_at"))
    notifications = list(Notification.objects.filter(volume_id=volume.id).order_by("created_at"))
    traces = DecisionTrace.objects.filter(volume_id=volume.id).order_by("attempt", "id")
    return {
        "volume": volume,
        "lanes": lanes,
        "gantt": build_gantt(lanes, timezone.now()),
        "traces": [trace_view(t) for t in traces],
        "user_messages": user_messages,
        "notifications": notifications,
        "history": build_history(runs, notifications, user_messages),
        "replay": replay_script(volume, lanes),
    }


def volume_table(volumes) -> list[Volume]:
    """Volumes with the latest user message attached to each error one."""
    volumes = list(volumes)
    ids = [v.id for v in volumes if v.status == "error"]
    reasons = {}
    for message in UserMessage.objects.filter(resource_uuid__in=ids).order_by("created_at"):
        reasons[message.resource_uuid] = message.user_message
    for volume in volumes:
        volume.reason = reasons.get(volume.id)
    return volumes
