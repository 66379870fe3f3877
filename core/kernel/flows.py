"""What every flow shares: Cinder's task names, and the tasks each flow plans to run.

Cinder names a task ``<module>.<Class>;<action>[, <addon>]``; each service's flows
subclass :class:`CinderTask` with the Cinder module its tasks come from. Pages draw a
flow's tasks as pending before they run; the names come from the registry each
service fills at start (its ``AppConfig.ready``), so no page imports another
service's flows.
"""

from collections.abc import Callable, Iterable
from typing import ClassVar

import taskflow.engines
from taskflow import task
from taskflow.persistence import base
from taskflow.utils import persistence_utils

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


class _RunOnlyConnection(base.Connection):
    """Hands the engine's own details back: nothing is kept beyond the run."""

    def __init__(self, backend: "RunOnlyBackend") -> None:
        self._backend = backend

    @property
    def backend(self):
        return self._backend

    def close(self) -> None:
        pass

    def upgrade(self) -> None:
        pass

    def clear_all(self) -> None:
        pass

    def validate(self) -> None:
        pass

    def update_atom_details(self, atom_detail):
        return atom_detail

    def update_flow_details(self, flow_detail):
        return flow_detail

    def save_logbook(self, book):
        return book

    def destroy_logbook(self, book_uuid) -> None:
        pass

    def get_logbook(self, book_uuid, lazy=False):
        raise KeyError(book_uuid)

    def get_logbooks(self, lazy=False):
        return iter(())

    def get_flows_for_book(self, book_uuid):
        return iter(())

    def get_flow_details(self, fd_uuid, lazy=False):
        raise KeyError(fd_uuid)

    def get_atom_details(self, ad_uuid):
        raise KeyError(ad_uuid)

    def get_atoms_for_flow(self, fd_uuid):
        return iter(())


class RunOnlyBackend(base.Backend):
    """A taskflow persistence backend that keeps nothing, for engines that are never
    resumed: Cinder loads its flows with no backend, and what Cinderlab's pages show is
    written by the FlowRecorder. Taskflow's stand-in for "no backend" is its in-memory
    one, a locked, path-addressed tree that every state change is copied into: over a
    third of an engine's own cost per run, for a record nobody reads."""

    def __init__(self) -> None:
        super().__init__({})
        self._connection = _RunOnlyConnection(self)

    def get_connection(self):
        return self._connection

    def close(self) -> None:
        pass


_RUN_ONLY = RunOnlyBackend()


def load(flow, store: dict):
    """A taskflow engine for one run of ``flow`` with ``store``."""
    detail = persistence_utils.create_flow_detail(flow)
    return taskflow.engines.load(flow, store=store, flow_detail=detail, backend=_RUN_ONLY)
