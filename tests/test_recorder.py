"""The recorder writes a flow's transitions in batches, and the page still sees each state.

A flow over before its write delay costs two writes (its rows when its last task starts,
what changed when it ends), with every transition in each task's history; what the last
task does is seen after the run and the tasks before it are recorded; a task still
running after the delay shows ``running`` while it runs; a failure and its reverts are
recorded as they happened.
"""

import re
import threading
import uuid

import pytest
import taskflow.engines
from django.db import connection
from django.test.utils import CaptureQueriesContext
from taskflow import task
from taskflow.patterns import linear_flow

from core.kernel.models import FlowRun, TaskRun
from core.kernel.recorder import FlowRecorder
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


class Quick(task.Task):
    def execute(self):
        return {"done": self.name}


class Another(Quick):
    pass


class AThird(Quick):
    pass


class LooksAtTheRecord(task.Task):
    """What a last task's effect (a volume's status) would find recorded when it shows."""

    def execute(self, volume_id):
        run = FlowRun.objects.filter(volume_id=volume_id).first()
        if run is None:
            return None
        return {row.atom_name: row.state for row in run.tasks.all()}


class Waits(task.Task):
    """Runs until the test lets it finish."""

    def __init__(self, release: threading.Event, **kwargs):
        super().__init__(**kwargs)
        self.release = release

    def execute(self):
        assert self.release.wait(60), "the test never let the task finish"
        return "released"


class Breaks(task.Task):
    def execute(self):
        raise RuntimeError("the disk caught fire")


def record(flow, volume_id, **options) -> FlowRecorder:
    engine = taskflow.engines.load(flow)
    recorder = FlowRecorder(engine, volume_id=volume_id, project_id="p", flow="manager", **options)
    with recorder:
        try:
            engine.run()
        except RuntimeError:
            pass
    return recorder


def states(task_row: TaskRun) -> list[str]:
    return [entry["state"] for entry in task_row.history]


def writes(queries, table: str) -> list[str]:
    """The table's INSERTs and UPDATEs, in order (Django logs an executemany as
    ``N times: <sql>``)."""
    statements = [re.sub(r"^\d+ times: ", "", q["sql"]) for q in queries.captured_queries]
    return [
        sql.split()[0]
        for sql in statements
        if sql.split()[0] in ("INSERT", "UPDATE") and table in sql.split("(")[0]
    ]


def test_a_flow_over_before_its_delay_is_two_writes_with_every_transition(live_db):
    volume_id = uuid.uuid4()
    flow = linear_flow.Flow("quick").add(Quick("one"), Another("two"), AThird("three"))
    with CaptureQueriesContext(connection) as queries:
        record(flow, volume_id, write_delay=3600)  # the flow ends long before

    # The rows when the last task starts (one bulk insert), then its end and the run's.
    assert writes(queries, "portal_flowrun") == ["INSERT", "UPDATE"]
    assert writes(queries, "portal_taskrun") == ["INSERT", "UPDATE"]
    run = FlowRun.objects.get(volume_id=volume_id)
    assert run.state == "success" and run.started_at and run.ended_at
    rows = list(run.tasks.order_by("position"))
    assert [r.atom_name for r in rows] == ["one", "two", "three"]
    for row in rows:
        assert row.state == "success"
        assert states(row)[-2:] == ["running", "success"]
        assert row.result == {"done": row.atom_name}
        assert row.started_at <= row.ended_at


def test_the_last_task_runs_after_the_run_and_the_tasks_before_it_are_recorded(live_db):
    volume_id = uuid.uuid4()
    flow = linear_flow.Flow("ends").add(Quick("one"), Another("two"), LooksAtTheRecord("last"))
    engine = taskflow.engines.load(flow, store={"volume_id": volume_id})
    with FlowRecorder(
        engine, volume_id=volume_id, project_id="p", flow="manager", write_delay=3600
    ):
        engine.run()

    seen = FlowRun.objects.get(volume_id=volume_id).tasks.get(atom_name="last").result
    assert seen == {"one": "success", "two": "success", "last": "running"}


def test_a_task_still_running_after_the_delay_shows_running_while_it_runs(live_db):
    volume_id = uuid.uuid4()
    release = threading.Event()
    flow = linear_flow.Flow("slow").add(Quick("before"), Waits(release, name="copy"))
    worker = threading.Thread(target=record, args=(flow, volume_id), daemon=True)
    worker.start()
    try:

        def copy_row():
            row = TaskRun.objects.filter(flow_run__volume_id=volume_id, atom_name="copy").first()
            return row if row and row.state == "running" else None

        running = wait_until(copy_row, timeout=30, what="the copy to show running")
        assert running.flow_run.state == "running"
        assert TaskRun.objects.get(flow_run=running.flow_run, atom_name="before").state == "success"
    finally:
        release.set()
        worker.join(30)

    run = FlowRun.objects.get(volume_id=volume_id)
    assert run.state == "success"
    copy = run.tasks.get(atom_name="copy")
    assert copy.state == "success" and copy.result == "released"
    assert states(copy)[-2:] == ["running", "success"]


def test_a_failure_and_its_reverts_are_recorded(live_db):
    volume_id = uuid.uuid4()
    flow = linear_flow.Flow("breaks").add(Quick("first"), Breaks("second"))
    record(flow, volume_id)

    run = FlowRun.objects.get(volume_id=volume_id)
    assert run.state in ("reverted", "failure")
    assert "the disk caught fire" in run.failure
    first, second = run.tasks.order_by("position")
    assert second.state in ("failure", "reverted")
    assert "RuntimeError: the disk caught fire" in second.failure
    assert "failure" in states(second)
    assert first.state == "reverted" and first.revert_started_at and first.revert_ended_at
    assert states(first)[-2:] == ["reverting", "reverted"]
