"""The crash fault kills the worker process mid-create; the agent cleans up as Cinder does.

The agent itself lives on (its pool replaces the worker), so no restart is needed: it
notices the dead worker's work and ends it, ``error`` with a user message.
"""

import subprocess
import sys

import pytest
from django.conf import settings

from agent.models import Fault
from core.cinder import quota
from core.cinder.models import UserMessage, Volume
from core.kernel.models import FlowRun
from tests.cluster import child_env
from tests.integration.agent_support import (
    add_backend,
    create,
    dedicated_type,
    retire_backends,
    start_agent,
    unique_tag,
)
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


def test_a_crash_mid_create_kills_one_worker_and_the_agent_sets_the_volume_to_error(world, cloud):
    tag = unique_tag()
    host = f"crashnode-{tag}"
    vtype = dedicated_type(tag)
    backend = add_backend(host, "lvm-crash", tag)
    fault = Fault.objects.create(backend=backend, operation="create", crash=True)
    name = start_agent(cloud, host, ["lvm-crash"])
    agent_pid = cloud.procs[name].pid
    try:
        volume = create(world, size=1, volume_type=vtype.name)
        wait_until(
            lambda: Fault.objects.filter(id=fault.id, hits=1, active=False).exists(),
            timeout=60,
            what="the crash fault to fire",
        )
        run = wait_until(
            lambda: FlowRun.objects.filter(volume_id=volume.id, flow="manager").first(),
            timeout=30,
            what="the manager run",
        )
        volume = wait_until(
            lambda: Volume.objects.filter(id=volume.id, status="error").first(),
            timeout=60,
            what="the agent to clean the dead worker's create up",
        )
        # It died inside CreateVolumeFromSpecTask: that task never ended.
        assert run.tasks.get(name="CreateVolumeFromSpecTask").state == "running"
        message = UserMessage.objects.get(resource_uuid=volume.id)
        assert message.event_id == "VOLUME_VOLUME_008_001" and "died" in message.user_message
        assert cloud.procs[name].poll() is None and cloud.procs[name].pid == agent_pid
        # The pool replaced the worker: the next create on this backend succeeds.
        after = create(world, size=1, volume_type=vtype.name)
        wait_until(
            lambda: Volume.objects.filter(id=after.id, status="available").exists(),
            timeout=60,
            what="a create after the crash",
        )
    finally:
        cloud.stop(name)
        retire_backends(host)

    usage = quota.usage_summary(world.project.pk)
    for resource in ("volumes", "gigabytes", f"volumes_{vtype.name}", f"gigabytes_{vtype.name}"):
        assert usage[resource]["in_use"] == quota.actual_in_use(world.project.pk, resource)
        assert usage[resource]["reserved"] == 0
    assert usage["volumes"]["in_use"] == 2  # an error volume keeps its quota until deleted
    check = subprocess.run(
        [sys.executable, "manage.py", "quota_check", "--project", world.project.pk],
        cwd=settings.BASE_DIR,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout + check.stderr
