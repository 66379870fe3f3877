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


def task_dom_id(flow: str, attempt: int, name: str) -> str:
    """Stable across renders (and from planned to real), so the page can keep a task open."""
    return f"task-{flow}-{attempt}-{name}"


@dataclass
class TaskView:
    flow: str
    attempt: int
    name: str
    row: TaskRun | None = None

    @property
    def dom_id(self) -> str:
        return task_dom_id(self.flow, self.attempt, self.name)

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

    @property
    def dom_id(self) -> str:
        return f"run-{self.flow}-{self.attempt}"

    @property
    def state(self) -> str:
        return self.run.state if self.run else "pending"


def _attempt_view(flow: str, attempt: int, run: FlowRun | None) -> AttemptView:
    rows = {t.name: t for t in run.tasks.all()} if run else {}
    names = [t.name for t in sorted(rows.values(), key=lambda t: t.position)]
    names = names or planned_tasks(flow)
    tasks = [TaskView(flow, attempt, name, rows.get(name)) for name in names]
    return AttemptView(flow, attempt, run, tasks)


def build_lanes(volume: Volume, runs: list[FlowRun]) -> list[dict]:
    """Three lanes; each attempt its own row; what is still to come shown as pending.

    While the volume is still being created, a lane that has not reached the
    latest attempt shows that attempt's tasks pending, so the whole planned
    flow is on the page from the start.
    """
    latest = max([r.attempt for r in runs if r.flow in PER_ATTEMPT], default=1)
    lanes = []
    for flow, label in FlowRun.FLOWS:
        mine = [r for r in runs if r.flow == flow]
        attempts = [_attempt_view(flow, r.attempt, r) for r in mine]
        if volume.is_transitional:
            expected = latest if flow in PER_ATTEMPT else 1
            done = {a.attempt for a in attempts}
            if expected not in done and (not done or max(done) < expected):
                attempts.append(_attempt_view(flow, expected, None))
        lanes.append({"flow": flow, "label": label, "attempts": attempts})
    return lanes
