import json

from django import template

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
def pretty_json(value) -> str:
    return json.dumps(value, sort_keys=True, default=str)
