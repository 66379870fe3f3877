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
