"""The create form's limit bars: in use, reserved and the request, per resource.

Built once here for the page, the htmx fragment and the websocket, so all
three show the same picture. Unlike Horizon's limit summary, reserved quota
(other requests in flight) is drawn too: two simultaneous creates can never
both look allowed. ``static/quota.js`` redraws the requested segment as the
user types, with the same thresholds as :func:`state_of`.
"""

from dataclasses import dataclass

from core.cinder import quota

WARNING_AT = 0.8  # share of the limit from which a bar turns amber
DANGER_AT = 0.95  # ...and red


def state_of(limit: int, total: int) -> str:
    """``ok``, ``warning``, ``danger`` or ``exceeded`` for a total against a limit."""
    if limit < 0:
        return "ok"
    if total > limit:
        return "exceeded"
    share = total / limit if limit else 1.0
    if share >= DANGER_AT:
        return "danger"
    return "warning" if share >= WARNING_AT else "ok"


def _percent(part: int, whole: int) -> float:
    return round(min(100.0, 100.0 * part / whole), 2) if whole > 0 else 0.0


@dataclass
class Bar:
    resource: str
    kind: str  # "volumes" or "gigabytes": what one create asks of it
    label: str
    limit: int
    in_use: int
    reserved: int
    volume_type: str = ""  # per-type bars apply only while that type is selected
    requested: int = 0

    @property
    def unlimited(self) -> bool:
        return self.limit < 0

    @property
    def state(self) -> str:
        return state_of(self.limit, self.in_use + self.reserved + self.requested)

    @property
    def over(self) -> int:
        """How far in use, reserved and the request go past the limit (0 when they fit)."""
        if self.unlimited:
            return 0
        return max(0, self.in_use + self.reserved + self.requested - self.limit)

    @property
    def in_use_pct(self) -> float:
        return _percent(self.in_use, self.limit)

    @property
    def reserved_pct(self) -> float:
        return min(_percent(self.reserved, self.limit), 100.0 - self.in_use_pct)

    @property
    def requested_pct(self) -> float:
        room = 100.0 - self.in_use_pct - self.reserved_pct
        return max(0.0, min(_percent(self.requested, self.limit), room))


def _requested(kind: str, size: int) -> int:
    return size if kind == "gigabytes" else 1


def limit_bars(project_id: str, size: int = 0, volume_type: str | None = None) -> dict:
    """The bars for a project: volumes and GiB, plus each type's own limits where set.

    ``size`` and ``volume_type`` are the form's current values (0 and None for
    a picture pushed over the websocket: the page then adds its own request).
    """
    summary = quota.usage_summary(project_id)
    bars = []
    for kind, label in (("volumes", "Volumes"), ("gigabytes", "Gigabytes")):
        row = summary[kind]
        bars.append(Bar(kind, kind, label, row["limit"], row["in_use"], row["reserved"]))
    for resource, row in summary.items():
        kind, _, type_name = resource.partition("_")
        if type_name and kind in ("volumes", "gigabytes") and row["limit"] >= 0:
            label = f"{'Volumes' if kind == 'volumes' else 'Gigabytes'} of type {type_name}"
            bars.append(
                Bar(resource, kind, label, row["limit"], row["in_use"], row["reserved"], type_name)
            )
    for bar in bars:
        applies = not bar.volume_type or bar.volume_type == volume_type
        bar.requested = _requested(bar.kind, size) if applies and size > 0 else 0
    per_volume = summary["per_volume_gigabytes"]["limit"]
    fits = all(
        bar.state != "exceeded"
        for bar in bars
        if not bar.volume_type or bar.volume_type == volume_type
    ) and not (per_volume >= 0 and size > per_volume)
    return {
        "project_id": project_id,
        "bars": bars,
        "per_volume_limit": per_volume,
        "size": size,
        "volume_type": volume_type or "",
        "fits": fits,
        "warning_at": WARNING_AT,
        "danger_at": DANGER_AT,
    }
