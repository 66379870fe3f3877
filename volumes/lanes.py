"""A volume's flows as lanes: API, scheduler and volume manager, each attempt its own row.

Built from the recorded FlowRun/TaskRun rows; what has not run yet is drawn from
the tasks each flow plans (the kernel's registry, filled by each service).
"""

from dataclasses import dataclass, field

from core.cinder.models import Volume
from core.kernel.flows import planned_tasks
from core.kernel.models import FlowRun, TaskRun

# Flows that run once per scheduling attempt (the API flow runs once per request).
PER_ATTEMPT = ("scheduler", "manager")


def task_dom_id(flow: str, attempt: int, name: str, scope: str = "") -> str:
    """Stable across renders (and from planned to real), so the page can keep a task open.
    ``scope`` tells apart the runs of operations after the create (their request)."""
    prefix = f"task-{scope}-" if scope else "task-"
    return f"{prefix}{flow}-{attempt}-{name}"


@dataclass
class TaskView:
    flow: str
    attempt: int
    name: str
    row: TaskRun | None = None
    scope: str = ""
    operation: str = "create"

    @property
    def dom_id(self) -> str:
        return task_dom_id(self.flow, self.attempt, self.name, self.scope)

    @property
    def tag(self) -> str:
        """How the timeline labels the task's lane."""
        prefix = "" if self.operation == "create" else f"{self.operation} "
        return f"{prefix}{self.flow} #{self.attempt}"

    @property
    def state(self) -> str:
        return self.row.state if self.row else "pending"

    def __getattr__(self, item):  # started_at, inputs, commands... from the row
        row = self.__dict__.get("row")
        if row is None:
            raise AttributeError(item)
        return getattr(row, item)

    @property
    def revert_duration(self) -> float | None:
        row = self.row
        if row and row.revert_started_at and row.revert_ended_at:
            return (row.revert_ended_at - row.revert_started_at).total_seconds()
        return None


@dataclass
class AttemptView:
    flow: str
    attempt: int
    run: FlowRun | None
    tasks: list[TaskView] = field(default_factory=list)
    scope: str = ""

    @property
    def dom_id(self) -> str:
        prefix = f"run-{self.scope}-" if self.scope else "run-"
        return f"{prefix}{self.flow}-{self.attempt}"

    @property
    def state(self) -> str:
        return self.run.state if self.run else "pending"


def _attempt_view(
    flow: str, attempt: int, run: FlowRun | None, operation: str = "create", scope: str = ""
) -> AttemptView:
    rows = {t.name: t for t in run.tasks.all()} if run else {}
    names = [t.name for t in sorted(rows.values(), key=lambda t: t.position)]
    names = names or planned_tasks(flow, operation)
    tasks = [TaskView(flow, attempt, name, rows.get(name), scope, operation) for name in names]
    return AttemptView(flow, attempt, run, tasks, scope)


def build_lanes(volume: Volume, runs: list[FlowRun]) -> list[dict]:
    """Three lanes; each attempt its own row; what is still to come shown as pending.

    While the volume is still being created, a lane that has not reached the
    latest attempt shows that attempt's tasks pending, so the whole planned
    flow is on the page from the start.
    """
    runs = [r for r in runs if r.operation == "create"]
    latest = max([r.attempt for r in runs if r.flow in PER_ATTEMPT], default=1)
    lanes = []
    for flow, label in FlowRun.FLOWS:
        mine = [r for r in runs if r.flow == flow]
        attempts = [_attempt_view(flow, r.attempt, r) for r in mine]
        if volume.status == "creating":
            expected = latest if flow in PER_ATTEMPT else 1
            done = {a.attempt for a in attempts}
            if expected not in done and (not done or max(done) < expected):
                attempts.append(_attempt_view(flow, expected, None))
        lanes.append({"flow": flow, "label": label, "attempts": attempts})
    return lanes


@dataclass
class OperationView:
    """One request after the create (an extend, an attach, a delete...) and its runs."""

    operation: str
    key: str
    attempts: list[AttemptView]

    @property
    def dom_id(self) -> str:
        return f"operation-{self.key}"

    @property
    def label(self) -> str:
        return describe(self.operation)

    @property
    def state(self) -> str:
        states = [a.state for a in self.attempts]
        for state in ("failure", "reverting", "reverted", "running", "pending"):
            if state in states:
                return state
        return states[-1] if states else "pending"

    @property
    def started_at(self):
        return self.attempts[0].run.created_at if self.attempts and self.attempts[0].run else None


def build_operations(runs: list[FlowRun]) -> list[OperationView]:
    """Every operation after the create, oldest first: the runs of one request together."""
    blocks: dict[str, OperationView] = {}
    for run in runs:
        if run.operation == "create":
            continue
        key = (run.request_id or str(run.id))[:12]
        block = blocks.setdefault(key, OperationView(run.operation, key, []))
        # A migration runs several manager flows in one request: each gets its own ids.
        taken = {(a.flow, a.attempt) for a in block.attempts}
        scope = f"{key}-{len(block.attempts)}" if (run.flow, run.attempt) in taken else key
        block.attempts.append(_attempt_view(run.flow, run.attempt, run, run.operation, scope))
    return list(blocks.values())


OPERATIONS = {
    "delete": "Delete",
    "extend": "Extend",
    "attach": "Attach",
    "detach": "Detach",
    "revert": "Revert to snapshot",
    "retype": "Change type",
    "migrate": "Migrate",
    "snapshot": "Create snapshot",
}


def describe(operation: str) -> str:
    return OPERATIONS.get(operation, operation.replace("_", " ").capitalize())
