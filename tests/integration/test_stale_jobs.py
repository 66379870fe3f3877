"""Jobs compare and swap: a job whose volume moved on ends quietly; nothing comes back."""

import pytest
from rq.registry import FailedJobRegistry

from core.cinder.models import Volume
from core.kernel.models import FlowRun
from core.kernel.queues import get_queue
from tests.integration.agent_support import (
    add_backend,
    context,
    create,
    dedicated_type,
    retire_backends,
    start_agent,
    unique_tag,
    wait_gone,
)
from tests.waiting import wait_until
from volumes import api

pytestmark = pytest.mark.integration


def test_a_create_queued_for_a_volume_deleted_meanwhile_never_brings_it_back(world, cloud):
    tag = unique_tag()
    host = f"stalenode-{tag}"
    vtype = dedicated_type(tag)
    add_backend(host, "lvm-stale", tag)
    queue = get_queue(f"volume.{host}@lvm-stale")
    name = start_agent(cloud, host, ["lvm-stale"])
    cloud.stop(name)  # its service still counts as up for a while: the scheduler picks it
    try:
        volume = create(world, size=1, volume_type=vtype.name)
        wait_until(lambda: queue.count == 1, timeout=30, what="the create to wait in the queue")
        admin = context(world) | {"is_admin": True}
        api.delete(admin, volume.id, force=True)  # Cinder's force delete (3.23, admins)
        assert Volume.objects.get(id=volume.id).status == "deleting"

        name = start_agent(cloud, host, ["lvm-stale"])
        wait_gone(volume.id)

        assert queue.count == 0
        assert Volume.all_objects.get(id=volume.id).status == "deleted"  # not brought back
        assert not FlowRun.objects.filter(
            volume_id=volume.id, flow="manager", operation="create"
        ).exists()
        assert FailedJobRegistry(queue=queue).count == 0  # ended quietly, no traceback
        assert "has no work for this job; nothing to do" in cloud.log(name)
    finally:
        cloud.stop(name)
        retire_backends(host)
