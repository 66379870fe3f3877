"""What every flow shares: Cinder's task names, and the tasks each flow plans to run.

Cinder names a task ``<module>.<Class>;<action>[, <addon>]``; each service's flows
subclass :class:`CinderTask` with the Cinder module its tasks come from. Pages draw a
flow's tasks as pending before they run; the names come from the registry each
service fills at start (its ``AppConfig.ready``), so no page imports another
service's flows.
"""

import functools
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar

from taskflow import storage, task
from taskflow.engines.action_engine.compiler import PatternCompiler
from taskflow.engines.action_engine.engine import SerialActionEngine
from taskflow.persistence import base
from taskflow.types.sets import OrderedSet
from taskflow.utils import persistence_utils

_PLANS: dict[tuple[str, str], Callable[[], list[str]]] = {}
_NAMES: dict[tuple[str, str], list[str]] = {}
# Taskflow's argument mapping per task method and bindings (see CinderTask).
_ARG_MAPPINGS: dict[tuple, tuple] = {}


class CinderTask(task.Task):
    """A task named as Cinder names it: ``<module>.<Class>;<addons>``."""

    module: ClassVar[str]
    addons: ClassVar[tuple[str, ...]] = ("volume:create",)

    def __init__(self, addons: Iterable[str] | None = None, **kwargs):
        addons = tuple(addons) if addons is not None else self.addons
        super().__init__(name=f"{self.module}.{type(self).__name__};{', '.join(addons)}", **kwargs)

    def _build_arg_mapping(
        self, executor, requires=None, rebind=None, auto_extract=True, ignore_list=None
    ):
        """Taskflow's argument mapping, worked out once per method and arguments: it reads
        the method's signature twice with ``inspect`` for each of ``execute`` and
        ``revert`` every time a task is made, and flows are made per request."""
        key = (
            getattr(executor, "__func__", executor),
            repr(requires),
            repr(rebind),
            auto_extract,
            repr(ignore_list),
            repr(sorted(self.inject)) if self.inject else None,
        )
        mapping = _ARG_MAPPINGS.get(key)
        if mapping is None:
            mapping = _ARG_MAPPINGS[key] = super()._build_arg_mapping(
                executor, requires, rebind, auto_extract, ignore_list
            )
        rebound, required, optional = mapping
        return OrderedDict(rebound), OrderedSet(required), OrderedSet(optional)


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


class _OneThreadLock:
    """fasteners' reader-writer lock interface on one re-entrant lock."""

    def __init__(self) -> None:
        self._lock = threading.RLock()

    def read_lock(self) -> threading.RLock:
        return self._lock

    def write_lock(self) -> threading.RLock:
        return self._lock


class RunOnlyStorage(storage.Storage):
    """Taskflow's storage for a serial engine over :class:`RunOnlyBackend`.

    Its one thread is the only reader and writer, so a plain re-entrant lock stands in for
    taskflow's pure-Python reader-writer lock (taken on every read and write), and saves
    skip the retry loop guarding against a backend's failures: this backend cannot fail.
    Together ~45% of a short flow's engine time (a six-task flow: 3.0 -> 1.65 ms a run).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._lock = _OneThreadLock()

    def _save_flow_detail(self, conn, original_flow_detail, flow_detail):
        return original_flow_detail.update(flow_detail)

    def _save_atom_detail(self, conn, original_atom_detail, atom_detail):
        return original_atom_detail.update(atom_detail)


@dataclass
class _Built:
    """What every engine of a flow built once shares: its compiler (which keeps the
    compilation, frozen) and the sets of store names it was validated with."""

    compiler: PatternCompiler
    validated: set[frozenset] = field(default_factory=set)


_BUILT: "weakref.WeakKeyDictionary[object, _Built]" = weakref.WeakKeyDictionary()


def built_once[F](build: Callable[[], F]) -> Callable[[], F]:
    """``build``, run once per thread: every later call in the thread returns the same flow,
    and every engine loaded with it shares its compilation and validation. Only for flows
    whose tasks keep nothing of a run (what a run needs comes from its store, what it makes
    goes back there), as Cinder's API and scheduler flows take no constructor arguments.
    Taskflow's compiler builds networkx graphs of the flow for every engine, a fifth of a
    short flow's engine time; one thread runs one engine at a time, so a thread's flow is
    never run twice at once (a task's progress listeners are registered on the task while
    it runs)."""
    local = threading.local()

    @functools.wraps(build)
    def once() -> F:
        flow = getattr(local, "flow", None)
        if flow is None:
            flow = local.flow = compiled_once(build())
        return flow

    return once


def compiled_once[F](flow: F) -> F:
    """Mark ``flow`` as built once (see :func:`built_once`) by a caller that keeps it itself:
    every engine loaded with it shares its compilation and validation."""
    _BUILT[flow] = _Built(PatternCompiler(flow))
    return flow


class RunOnlyEngine(SerialActionEngine):
    """Taskflow's serial engine (the one ``taskflow.engines.load`` picks by default),
    keeping its run in :class:`RunOnlyStorage`; a flow built once compiles once, and is
    validated once per set of store names."""

    def __init__(self, flow, flow_detail, backend, options, store_names=frozenset()) -> None:
        super().__init__(flow, flow_detail, backend, options)
        self._built = _BUILT.get(flow)
        self._store_names = store_names
        if self._built is not None:
            self._compiler = self._built.compiler

    def validate(self) -> None:
        """Taskflow's check that every task's inputs are in the store or made by a task
        before it: for the same flow and the same store names it finds the same."""
        if self._built is not None and self._store_names in self._built.validated:
            self._validated = True
            return
        super().validate()
        if self._built is not None:
            self._built.validated.add(self._store_names)

    @cached_property
    def storage(self) -> RunOnlyStorage:
        def scope_fetcher(atom_name):
            return self._runtime.fetch_scopes_for(atom_name) if self._compiled else None

        return RunOnlyStorage(self._flow_detail, backend=self._backend, scope_fetcher=scope_fetcher)


def load(flow, store: dict) -> RunOnlyEngine:
    """A taskflow engine for one run of ``flow`` with ``store``."""
    detail = persistence_utils.create_flow_detail(flow)
    engine = RunOnlyEngine(flow, detail, _RUN_ONLY, {}, frozenset(store or ()))
    if store:
        engine.storage.inject(store)
    return engine
