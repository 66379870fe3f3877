import json
from datetime import datetime

from django import template
from django.utils.html import json_script

register = template.Library()

# Icons pair with the state's text, so state is never told by colour alone.
STATE_ICONS = {
    "pending": "○",
    "running": "◔",
    "success": "✓",
    "failure": "✗",
    "reverting": "↺",
    "reverted": "⟲",
    "revert_failure": "‼",
}


@register.filter
def state_icon(state: str) -> str:
    return STATE_ICONS.get(str(state).lower(), "?")


@register.filter
def state_label(state: str) -> str:
    return str(state).lower().replace("_", " ")


@register.filter
def pretty_json(value) -> str:
    return json.dumps(value, sort_keys=True, default=str)


@register.filter
def is_dict(value) -> bool:
    return isinstance(value, dict)


@register.filter
def seconds(value) -> str:
    """A duration for people: milliseconds under a second, else seconds."""
    if value is None:
        return ""
    value = float(value)
    if value < 1:
        return f"{value * 1000:.0f} ms"
    return f"{value:.2f} s"


@register.filter
def iso_time(value) -> str:
    """``HH:MM:SS.mmm`` from an ISO timestamp string or a datetime."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return value.strftime("%H:%M:%S.%f")[:12]
    return str(value)


# Volume statuses get an icon too (status is never told by colour alone).
STATUS_ICONS = {"creating": "◔", "available": "✓", "error": "✗", "deleting": "↺", "in-use": "⇄"}


@register.filter
def state_icon_status(status: str) -> str:
    return STATUS_ICONS.get(str(status), "•")


@register.simple_tag
def icons_script() -> str:
    """Both icon tables for the page's script (replay redraws states in the browser)."""
    return json_script({"states": STATE_ICONS, "statuses": STATUS_ICONS}, "state-icons")


@register.filter
def gib(value) -> str:
    """A reported capacity: ``12.5 GiB``, or Cinder's words ('infinite', 'unknown') as they are."""
    try:
        return f"{float(value):.1f} GiB"
    except (TypeError, ValueError):
        return str(value)


@register.filter
def percent(value) -> str:
    """A percentage fit for a CSS width: a number from 0 to 100, else 0 (reports are untrusted)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "0"
    return f"{min(max(number, 0.0), 100.0):g}" if number == number else "0"


@register.filter
def epoch_ms(value) -> str:
    """Milliseconds since the epoch, of a datetime or an ISO timestamp string."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return ""
    return f"{value.timestamp() * 1000:.1f}" if value else ""


@register.filter
def mul1000(value) -> str:
    return f"{float(value) * 1000:.1f}"


@register.filter
def weigher_cell(value) -> str:
    """One weigher's contribution: raw value, then the weighted score."""
    if value is None:
        return "—"
    if not isinstance(value, dict):
        return str(value)
    parts = []
    if value.get("raw") is not None:
        parts.append(f"raw {float(value['raw']):g}")
    if value.get("weighted") is not None:
        parts.append(f"{float(value['weighted']):.3f}")
    return " → ".join(parts) or pretty_json(value)
