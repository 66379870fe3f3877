"""FlowRecorder: the one writer of FlowRun/TaskRun rows and sender of flow events.

A taskflow listener. It creates the run with every task ``PENDING`` before
the engine starts, then records each transition (state, times, inputs,
results, failures, the commands a task ran) and nudges the channel layer.

The API flow runs before its volume exists and may be refused (bad input,
over quota); its recorder is ``deferred``: it keeps the transitions in memory
and writes them only if ``keep()`` says so when the flow ends (the API asks
whether the volume row exists), so a refused request leaves no row behind.
"""

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import taskflow.engines
from django.db import transaction
from django.utils import timezone
from taskflow import states
from taskflow.exceptions import NotFound
from taskflow.listeners import base
from taskflow.types.failure import Failure

from core.kernel import events
from core.kernel.models import FlowRun, TaskRun
from core.kernel.pace import hold_seconds

LOG = logging.getLogger(__name__)
_current = threading.local()
MAX_TRACEBACK_LINES = 12


def record_command(command: dict) -> None:
    """Attach a command (runner output) to the task running in this thread."""
    sink = getattr(_current, "commands", None)
    if sink is not None:
        sink.append(command)


def json_safe(value):
    """Plain values pass; anything else becomes its string (tasks hand on plain values)."""
    try:
        return json.loads(json.dumps(value, default=str))
    except (TypeError, ValueError):
        return str(value)


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
        """What a TaskRun row holds of this task's progress."""
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
            "commands": self.commands,
            "history": self.history,
        }


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
    ):
        super().__init__(engine)
        self.volume_id = uuid.UUID(str(volume_id))
        self.project_id = project_id
        # Deferred: write nothing until the flow ends, and then only if keep() says so.
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
        if not self.deferred:
            self._create_rows()
        super().register()

    def _create_rows(self) -> None:
        with transaction.atomic():
            self.run.save()
            TaskRun.objects.bulk_create(
                [self._task_row(t) for t in self.tasks.values()],
            )
        self._publish()

    def _task_row(self, t: _TaskState) -> TaskRun:
        return TaskRun(
            flow_run=self.run, position=t.position, name=t.name, atom_name=t.atom_name, **t.fields()
        )

    def _publish(self) -> None:
        events.volume_changed(self.volume_id, self.project_id)

    # -- receivers -------------------------------------------------------

    def _flow_receiver(self, state, details):
        now = timezone.now()
        run = self.run
        run.state = state.lower()
        if state == states.RUNNING and run.started_at is None:
            run.started_at = now
        if state in (states.SUCCESS, states.REVERTED, states.FAILURE):
            run.ended_at = now
            failures = [t.failure for t in self.tasks.values() if t.failure]
            run.failure = failures[0] if failures else ""
        if self.deferred:
            if state in (states.SUCCESS, states.REVERTED, states.FAILURE):
                self._flush_deferred()
            return
        run.save(update_fields=["state", "started_at", "ended_at", "failure"])
        self._publish()

    def _task_receiver(self, state, details):
        t = self.tasks.get(details["task_name"])
        if t is None:
            return
        now = timezone.now()
        t.state = state
        t.history.append({"state": state.lower(), "at": now.isoformat()})
        result = details.get("result")
        if state == states.RUNNING:
            t.started_at = now
            t.inputs = self._inputs(details["task_name"])
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
        if self.deferred:
            return
        TaskRun.objects.filter(flow_run=self.run, name=t.name).update(**t.fields())
        self._publish()
        if state == states.RUNNING and self.hold:
            events.flush()  # watchers see it running before the hold
            time.sleep(self.hold)  # teaching pace: the hold *is* the point

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

    def _flush_deferred(self) -> None:
        if self.keep():
            self._create_rows()


def run_recorded(taskflow_flow, store: dict, **recorder_kwargs):
    """Load ``taskflow_flow`` with ``store`` and run it under a FlowRecorder; the engine's
    error, if any, propagates once the run is recorded. Returns the engine (its storage
    holds the tasks' results)."""
    engine = taskflow.engines.load(taskflow_flow, store=store)
    with FlowRecorder(engine, **recorder_kwargs):
        engine.run()
    return engine
