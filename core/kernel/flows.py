"""What every flow shares: Cinder's task names, and the tasks each flow plans to run.

Cinder names a task ``<module>.<Class>;<action>[, <addon>]``; each service's flows
subclass :class:`CinderTask` with the Cinder module its tasks come from. Pages draw a
flow's tasks as pending before they run; the names come from the registry each
service fills at start (its ``AppConfig.ready``), so no page imports another
service's flows.
"""

from collections.abc import Callable, Iterable
from typing import ClassVar

from taskflow import task

_PLANS: dict[tuple[str, str], Callable[[], list[str]]] = {}
_NAMES: dict[tuple[str, str], list[str]] = {}


class CinderTask(task.Task):
    """A task named as Cinder names it: ``<module>.<Class>;<addons>``."""

    module: ClassVar[str]
    addons: ClassVar[tuple[str, ...]] = ("volume:create",)

    def __init__(self, addons: Iterable[str] | None = None, **kwargs):
        addons = tuple(addons) if addons is not None else self.addons
        super().__init__(name=f"{self.module}.{type(self).__name__};{', '.join(addons)}", **kwargs)


def task_names(flow) -> list[str]:
    """A built flow's task class names, in order."""
    return [type(atom).__name__ for atom, _ in flow.iter_nodes()]


def plan(flow: str, build: Callable[[], object], operation: str = "create") -> None:
    """Register how to build ``flow`` (a FlowRun.flow key) of ``operation`` so its task
    names can be read."""
    _PLANS[operation, flow] = lambda: task_names(build())
    _NAMES.pop((operation, flow), None)


def planned_tasks(flow: str, operation: str = "create") -> list[str]:
    """The task class names ``flow`` runs for ``operation``, in order ([] if unregistered)."""
    key = (operation, flow)
    if key not in _NAMES:
        build = _PLANS.get(key)
        _NAMES[key] = build() if build else []
    return _NAMES[key]
