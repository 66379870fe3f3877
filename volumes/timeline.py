"""A volume's flows in time: the Gantt timeline and the replay script.

Both read the recorded task times and transitions, so a reload or a replay shows
exactly what happened.
"""

from datetime import datetime

from core.cinder.models import Volume

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
