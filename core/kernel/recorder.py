"""FlowRecorder: the one writer of FlowRun/TaskRun rows and sender of flow events.

A taskflow listener. It records each transition (state, times, inputs, results,
failures, the commands a task ran, every state in the task's history) and nudges the
channel layer. Transitions are written in batches, not one row update each: a write
creates the run and its task rows if they do not exist yet, or updates what changed, in
one transaction. A write happens
- when the flow's last task starts, so the run and everything before it are recorded
  before that task's effect (a flow's last task sets the volume's status) can be seen;
- when a task fails, so the failure is recorded before the reverts set an error status;
- when the flow ends;
- ``WRITE_DELAY`` after a transition not yet written, so a slow task (a copy) still
  shows ``running`` on the page while it runs;
- at teaching pace, as each task starts, before it is held.
A flow over in a fraction of a second thus costs two small writes instead of one update
per transition. Until its rows exist the page draws the flow's planned tasks as pending,
as it does before a flow starts.

The API flow runs before its volume exists and may be refused (bad input,
over quota); its recorder is ``deferred``: it keeps the transitions in memory
and writes them only if ``keep()`` says so when the flow ends (the API asks
whether the volume row exists), so a refused request leaves no row behind.
"""

import heapq
import itertools
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import close_old_connections, transaction
from django.utils import timezone
from taskflow import states
from taskflow.exceptions import NotFound
from taskflow.listeners import base
from taskflow.types.failure import Failure

from core.kernel import events, flows, plain_sql
from core.kernel.models import FlowRun, TaskRun
from core.kernel.pace import hold_seconds

LOG = logging.getLogger(__name__)
_current = threading.local()
MAX_TRACEBACK_LINES = 12
# How long a transition may wait to be written with the ones after it: far below what a
# person watching the page notices, far above a fast flow's whole run.
WRITE_DELAY = 0.1
FLOW_ENDS = (states.SUCCESS, states.REVERTED, states.FAILURE)


def record_command(command: dict) -> None:
    """Attach a command (runner output) to the task running in this thread."""
    sink = getattr(_current, "commands", None)
    if sink is not None:
        sink.append(command)


def write_pending() -> None:
    """Write now what the flow running in this thread has not written yet (before a
    simulated crash, so the page shows the task it died in)."""
    recorder = getattr(_current, "recorder", None)
    if recorder is not None:
        recorder.write()


def json_safe(value):
    """Plain values pass; an object becomes what its ``as_recorded()`` says (a Volume
    handed between tasks shows its id, status, size...), anything else its string."""
    try:
        return json.loads(json.dumps(value, default=_recorded))
    except (TypeError, ValueError):
        return str(value)


def _recorded(value):
    as_recorded = getattr(value, "as_recorded", None)
    return as_recorded() if callable(as_recorded) else str(value)


def short_traceback(failure: Failure) -> str:
    text = failure.traceback_str or ""
    lines = text.strip().splitlines()
    return "\n".join(lines[-MAX_TRACEBACK_LINES:])


def failure_type_names(failure: Failure) -> list[str]:
    """The exception's class and its bases, by name (works for remote failures too)."""
    return list(failure.to_dict().get("exc_type_names") or ["Exception"])


def failure_class_names(failure: Failure) -> set[str]:
    """The same, without modules: taskflow says ``agent.storage.exception.VolumeIsBusy``,
    Cinder's rules name ``VolumeIsBusy``."""
    return {name.rpartition(".")[2] for name in failure_type_names(failure)}


def failure_message(failure: Failure) -> str:
    return f"{failure_type_names(failure)[0]}: {failure.exception_str}"


@dataclass
class _TaskState:
    position: int
    name: str
    atom_name: str
    state: str = states.PENDING
    started_at: datetime | None = None
    ended_at: datetime | None = None
    revert_started_at: datetime | None = None
    revert_ended_at: datetime | None = None
    inputs: dict = field(default_factory=dict)
    result: object = None
    failure: str = ""
    traceback: str = ""
    commands: list = field(default_factory=list)
    history: list = field(default_factory=list)

    def fields(self) -> dict:
        """What a TaskRun row holds of this task's progress (lists copied: the task may
        still be adding to them while a write is under way)."""
        return {
            "state": self.state.lower(),
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "revert_started_at": self.revert_started_at,
            "revert_ended_at": self.revert_ended_at,
            "inputs": self.inputs,
            "result": self.result,
            "failure": self.failure,
            "traceback": self.traceback,
            "commands": list(self.commands),
            "history": list(self.history),
        }


RUN_PROGRESS = ("state", "started_at", "ended_at", "failure")
TASK_PROGRESS = tuple(_TaskState(0, "", "").fields())  # the columns a progress write sets


class _DelayedWrites(threading.Thread):
    """Writes each recorder's pending transitions when its delay is up (one per process)."""

    def __init__(self) -> None:
        super().__init__(name="recorder-writes", daemon=True)
        self.pid = os.getpid()
        self.due: list[tuple[float, int, FlowRecorder]] = []
        self.order = itertools.count()
        self.wake = threading.Condition()

    def add(self, recorder: "FlowRecorder", at: float) -> None:
        with self.wake:
            heapq.heappush(self.due, (at, next(self.order), recorder))
            self.wake.notify()

    def run(self) -> None:
        while True:
            with self.wake:
                while not self.due or self.due[0][0] > time.monotonic():
                    self.wake.wait(self.due[0][0] - time.monotonic() if self.due else None)
                _, _, recorder = heapq.heappop(self.due)
            try:
                recorder.write()
            except Exception:  # the flow's end writes everything again
                LOG.exception("Could not write the transitions of %s", recorder.run)
            finally:
                close_old_connections()


_writes: _DelayedWrites | None = None
_writes_lock = threading.Lock()


def _delayed_writes() -> _DelayedWrites:
    global _writes
    with _writes_lock:
        # A forked child inherits the object but not the thread: start its own.
        if _writes is None or _writes.pid != os.getpid():
            _writes = _DelayedWrites()
            _writes.start()
        return _writes


class FlowRecorder(base.Listener):
    def __init__(
        self,
        engine,
        *,
        volume_id,
        project_id: str,
        flow: str,
        operation: str = "create",
        request_id: str = "",
        attempt: int = 1,
        host: str = "",
        keep: Callable[[], bool] | None = None,
        write_delay: float = WRITE_DELAY,
    ):
        super().__init__(engine)
        self.write_delay = write_delay
        self.volume_id = uuid.UUID(str(volume_id))
        self.project_id = project_id
        # Deferred: write nothing until the flow ends, and then only if it succeeded or
        # keep() says so.
        self.keep = keep
        self.deferred = keep is not None
        self.run = FlowRun(
            volume_id=self.volume_id,
            project_id=project_id,
            flow=flow,
            operation=operation,
            request_id=request_id,
            attempt=attempt,
            host=host,
        )
        self.tasks: dict[str, _TaskState] = {}
        self._atoms: dict = {}
        self.last_task = ""
        # What changed since the last write (None: the rows do not exist yet).
        self.changed: set[str] | None = None
        self.run_changed = False
        self.write_due = False
        self.state_lock = threading.Lock()  # the receivers' changes against a write's copy
        self.write_lock = threading.Lock()  # one write at a time, each of the latest state

    # -- lifecycle -------------------------------------------------------

    def register(self):
        flow = self._engine._flow
        self.run.flow_name = flow.name
        # A deferred run (the API flow, in the web request) is not watched while it runs.
        self.hold = 0.0 if self.deferred else hold_seconds(self._context())
        self.run.teaching = self.hold > 0
        for position, atom in enumerate(flow.iter_nodes()):
            task = atom[0]
            self._atoms[task.name] = task
            self.tasks[task.name] = _TaskState(position, type(task).__name__, task.name)
            self.last_task = task.name
        super().register()

    def write(self) -> None:
        """Write what changed since the last write, in one transaction; the first write
        creates the run and its task rows. A failed write leaves its changes pending."""
        with self.write_lock:
            with self.state_lock:
                self.write_due = False
                creating = self.changed is None
                if not creating and not self.changed and not self.run_changed:
                    return
                run = {name: getattr(self.run, name) for name in RUN_PROGRESS}
                names = set(self.tasks if creating else self.changed)
                tasks = {name: self.tasks[name].fields() for name in names}
                self.changed, self.run_changed = set(), False
            try:
                self._store(creating, run, tasks)
            except Exception:
                with self.state_lock:
                    self.changed = None if creating else self.changed | names
                    self.run_changed = True
                raise
        self._publish()

    def _store(self, creating: bool, run: dict, tasks: dict[str, dict]) -> None:
        with transaction.atomic():
            if creating:
                plain_sql.insert(self.run)
                plain_sql.insert(
                    *[self._task_row(self.tasks[key], fields) for key, fields in tasks.items()]
                )
            else:
                plain_sql.update(FlowRun, {"id": self.run.pk}, run)
                plain_sql.update_many(
                    TaskRun,
                    ["flow_run", "name"],  # the row's unique key
                    TASK_PROGRESS,
                    [
                        (
                            [fields[name] for name in TASK_PROGRESS],
                            [self.run.pk, self.tasks[key].name],
                        )
                        for key, fields in tasks.items()
                    ],
                )

    def _task_row(self, t: _TaskState, fields: dict) -> TaskRun:
        return TaskRun(
            flow_run=self.run, position=t.position, name=t.name, atom_name=t.atom_name, **fields
        )

    def _publish(self) -> None:
        events.volume_changed(self.volume_id, self.project_id)

    def _changed(self, task: str | None = None) -> None:
        """Note a change (under ``state_lock``); a write follows within ``write_delay``."""
        if task is None:
            self.run_changed = True
        elif self.changed is not None:
            self.changed.add(task)
        if self.deferred or self.write_due:
            return
        self.write_due = True
        _delayed_writes().add(self, time.monotonic() + self.write_delay)

    # -- receivers -------------------------------------------------------

    def _flow_receiver(self, state, details):
        now = timezone.now()
        with self.state_lock:
            run = self.run
            run.state = state.lower()
            if state == states.RUNNING and run.started_at is None:
                run.started_at = now
            if state in FLOW_ENDS:
                run.ended_at = now
                failures = [t.failure for t in self.tasks.values() if t.failure]
                run.failure = failures[0] if failures else ""
            self._changed()
        # A deferred flow that succeeded is kept without asking (its refusals revert).
        if state in FLOW_ENDS and (not self.deferred or state == states.SUCCESS or self.keep()):
            self.write()

    def _task_receiver(self, state, details):
        t = self.tasks.get(details["task_name"])
        if t is None:
            return
        now = timezone.now()
        inputs = self._inputs(details["task_name"]) if state == states.RUNNING else None
        with self.state_lock:
            self._record(t, state, now, details.get("result"), inputs)
            self._changed(t.atom_name)
        _current.recorder = self if state in (states.RUNNING, states.REVERTING) else None
        if state == states.RUNNING and self.hold:
            self.write()  # teaching pace: on the page before the hold
            events.flush()  # watchers see it running before the hold
            time.sleep(self.hold)  # teaching pace: the hold *is* the point
        elif state == states.RUNNING and t.atom_name == self.last_task and not self.deferred:
            self.write()  # recorded before the last task's effect shows
        elif state == states.FAILURE and not self.deferred:
            self.write()  # recorded before the reverts' effects (an error status) show

    @staticmethod
    def _record(t: _TaskState, state, now: datetime, result, inputs: dict | None) -> None:
        t.state = state
        t.history.append({"state": state.lower(), "at": now.isoformat()})
        if state == states.RUNNING:
            t.started_at = now
            t.inputs = inputs
            _current.commands = t.commands
        elif state == states.SUCCESS:
            t.ended_at = now
            t.result = json_safe(result)
            _current.commands = None
        elif state == states.FAILURE:
            t.ended_at = now
            _current.commands = None
            if isinstance(result, Failure):
                t.failure = failure_message(result)
                t.traceback = short_traceback(result)
                extra = getattr(result.exception, "commands", None)
                if extra and not t.commands:
                    t.commands.extend(extra)
        elif state == states.REVERTING:
            t.revert_started_at = now
        elif state == states.REVERTED:
            t.revert_ended_at = now
        elif state == states.REVERT_FAILURE:
            t.revert_ended_at = now
            if isinstance(result, Failure):
                t.failure = failure_message(result)
                t.traceback = short_traceback(result)

    def _context(self) -> dict | None:
        try:
            return self._engine.storage.fetch("context")
        except NotFound:
            return None

    def _inputs(self, atom_name: str) -> dict:
        try:
            atom = self._atoms[atom_name]
            args = self._engine.storage.fetch_mapped_args(atom.rebind, atom_name=atom_name)
        except Exception:  # inputs are for display only
            LOG.debug("Could not fetch inputs of %s", atom_name, exc_info=True)
            return {}
        return {key: json_safe(value) for key, value in args.items() if key != "context"}


def run_recorded(taskflow_flow, store: dict, **recorder_kwargs):
    """Load ``taskflow_flow`` with ``store`` and run it under a FlowRecorder; the engine's
    error, if any, propagates once the run is recorded. Returns the engine (its storage
    holds the tasks' results)."""
    engine = flows.load(taskflow_flow, store)
    with FlowRecorder(engine, **recorder_kwargs):
        engine.run()
    return engine
