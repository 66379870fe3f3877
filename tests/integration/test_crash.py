"""The crash fault kills the worker mid-create; the restarted agent cleans up as Cinder does."""

import subprocess
import sys

import pytest
from django.conf import settings

from agent.models import Fault
from core.cinder import quota
from core.cinder.models import Volume
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


def test_after_a_crash_mid_create_the_restarted_agent_sets_the_volume_to_error(world, cloud):
    tag = unique_tag()
    host = f"crashnode-{tag}"
    vtype = dedicated_type(tag)
    backend = add_backend(host, "lvm-crash", tag)
    fault = Fault.objects.create(backend=backend, operation="create", crash=True)
    name = start_agent(cloud, host, ["lvm-crash"])
    try:
        volume = create(world, size=1, volume_type=vtype.name)
        # The work horse dies inside CreateVolumeFromSpecTask: the fault fired, nothing ended.
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
        wait_until(
            lambda: run.tasks.get(name="CreateVolumeFromSpecTask").state == "running",
            timeout=30,
            what="the create task to be caught mid-flight",
        )
        assert Volume.objects.get(id=volume.id).status == "creating"  # stuck, as in Cinder

        cloud.stop(name)
        start_agent(cloud, host, ["lvm-crash"])

        volume = wait_until(
            lambda: Volume.objects.filter(id=volume.id, status="error").first(),
            timeout=60,
            what="init_host to clean the volume up",
        )
        # The command prints its summary just after init_host has set the status.
        wait_until(
            lambda: "init_host cleaned 1 volume(s)" in cloud.log(name),
            timeout=30,
            what="the restarted agent to report its clean-up",
        )
    finally:
        cloud.stop(name)
        retire_backends(host)

    assert volume.status == "error"
    usage = quota.usage_summary(world.project.pk)
    for resource in ("volumes", "gigabytes", f"volumes_{vtype.name}", f"gigabytes_{vtype.name}"):
        assert usage[resource]["in_use"] == quota.actual_in_use(world.project.pk, resource)
        assert usage[resource]["reserved"] == 0
    assert usage["volumes"]["in_use"] == 1  # an error volume keeps its quota until deleted
    check = subprocess.run(
        [sys.executable, "manage.py", "quota_check", "--project", world.project.pk],
        cwd=settings.BASE_DIR,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout + check.stderr
