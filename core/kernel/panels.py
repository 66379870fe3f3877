"""Sections of a volume's page that other services contribute (the scheduler's decisions).

The volume page belongs to cinder-api; what it shows of another service comes from
here, filled by that service at start (its ``AppConfig.ready``), so the page imports
no other service. Each panel's template renders one ``<section>`` with a fixed id,
swapped by that id over the websocket like the page's own sections.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Panel:
    template: str
    context: Callable[[object], dict]  # volume id -> what the template reads as ``panel``


_PANELS: list[Panel] = []


def add(template: str, context: Callable[[object], dict]) -> None:
    if all(p.template != template for p in _PANELS):
        _PANELS.append(Panel(template, context))


def for_volume(volume_id) -> list[dict]:
    """Each panel's context, with ``template`` to include it by."""
    return [{"template": p.template, **p.context(volume_id)} for p in _PANELS]
