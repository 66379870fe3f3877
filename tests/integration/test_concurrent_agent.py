"""cinder-volume serves requests concurrently: a long delete never holds a create."""

import pytest

from agent.models import Fault
from core.cinder.models import Volume
from core.kernel.models import FlowRun, TaskRun
from tests.integration.agent_support import (
    add_backend,
    context,
    create,
    dedicated_type,
    retire_backends,
    start_agent,
    unique_tag,
    wait_available,
    wait_gone,
)
from tests.waiting import wait_until
from volumes import api

pytestmark = pytest.mark.integration


def test_a_create_finishes_while_a_slow_delete_runs_on_the_same_agent(world, cloud):
    tag = unique_tag()
    host = f"busynode-{tag}"
    vtype = dedicated_type(tag)
    backend = add_backend(host, "lvm-busy", tag)
    name = start_agent(cloud, host, ["lvm-busy"], AGENT_WORKERS="2")
    try:
        first = wait_available(create(world, size=1, volume_type=vtype.name).id)
        Fault.objects.create(backend=backend, operation="delete", latency_ms=4000)
        api.delete(context(world), first.id)
        slow = wait_until(
            lambda: TaskRun.objects.filter(
                flow_run__volume_id=first.id, name="DeleteVolumeOnBackendTask", state="running"
            ).first(),
            timeout=30,
            what="the delete to be held by its latency fault",
        )

        second = wait_available(create(world, size=1, volume_type=vtype.name).id)
        assert Volume.objects.filter(id=first.id, status="deleting").exists()  # still held
        wait_gone(first.id)
    finally:
        cloud.stop(name)
        retire_backends(host)

    slow.refresh_from_db()
    created = FlowRun.objects.get(volume_id=second.id, flow="manager")
    # The recorded times: the create ran, start to end, inside the delete's held task.
    assert slow.started_at < created.started_at < created.ended_at < slow.ended_at


def test_a_slow_capability_report_holds_neither_heartbeats_nor_jobs(world, cloud):
    """A report latency fault delays that report only: the agent keeps its heartbeat (so the
    scheduler still sees it up) and keeps running jobs meanwhile."""
    from datetime import timedelta

    from django.utils import timezone

    from core.kernel.models import Service
    from scheduler.models import Pool

    tag = unique_tag()
    host = f"slowreport-{tag}"
    vtype = dedicated_type(tag)
    backend = add_backend(host, "lvm-slow", tag)
    name = start_agent(cloud, host, ["lvm-slow"])
    service = f"{host}@lvm-slow"
    try:
        wait_until(
            lambda: Pool.objects.filter(host=service).exists(), timeout=30, what="a first report"
        )
        Fault.objects.create(backend=backend, operation="report", latency_ms=10_000)
        start = timezone.now()

        def heartbeat_after(seconds: float) -> bool:
            beat = Service.objects.get(binary="cinder-volume", host=service).heartbeat_at
            return beat > start + timedelta(seconds=seconds)

        volume = wait_available(create(world, size=1, volume_type=vtype.name).id)
        wait_until(lambda: heartbeat_after(5), timeout=8, what="heartbeats during the report")
        stalled = Pool.objects.filter(host=service).latest("reported_at").reported_at
    finally:
        Fault.objects.filter(backend=backend).delete()
        cloud.stop(name)
        retire_backends(host)

    assert stalled < start + timedelta(seconds=3)  # the report really was held meanwhile
    created = FlowRun.objects.get(volume_id=volume.id, flow="manager")
    assert created.ended_at < start + timedelta(seconds=10)
