"""`cinder work-cleanup` (3.24): an admin ends the work a killed volume service left stuck."""

import os
import signal
import subprocess
import sys
import uuid

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from agent.models import Fault
from core.cinder.models import UserMessage, Volume, Worker
from core.kernel.models import FlowRun, Service
from tests.api.clients import Cinder
from tests.cluster import child_env
from tests.conftest import PASSWORD, make_user
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


def test_cinder_work_cleanup_ends_a_create_a_killed_agent_left_stuck(world, server, cloud):
    tag = unique_tag()
    host = f"stucknode-{tag}"
    vtype = dedicated_type(tag)
    backend = add_backend(host, "lvm-stuck", tag)
    Fault.objects.create(backend=backend, operation="create", latency_ms=120_000)
    name = start_agent(cloud, host, ["lvm-stuck"])
    service_host = f"{host}@lvm-stuck"
    admin = make_user(f"cleaner-{uuid.uuid4().hex[:8]}", world.project, is_superuser=True)
    cinder = Cinder.keystone(server, admin.username, PASSWORD, world.project.name)
    try:
        volume = create(world, size=1, volume_type=vtype.name)
        wait_until(
            lambda: FlowRun.objects.filter(
                volume_id=volume.id,
                flow="manager",
                tasks__name="CreateVolumeFromSpecTask",
                tasks__state="running",
            ).exists(),
            timeout=60,
            what="the create to be under way on the agent",
        )
        os.killpg(cloud.procs.pop(name).pid, signal.SIGKILL)  # the agent and its workers
        report = wait_until(
            lambda: (lambda r: r if r.status_code == 503 else None)(Client().get("/healthz")),
            timeout=30,
            what="/healthz to see the killed agent",
        ).json()
        # Honest health: down within its heartbeat window, before service_down_time.
        assert report["agents"][service_host]["ok"] is False
        assert Service.objects.get(host=service_host).is_up(timezone.now())
        assert Volume.objects.get(id=volume.id).status == "creating"  # stuck, as in Cinder
        assert Worker.objects.filter(resource_id=volume.id, service=service_host).exists()

        result = cinder.run(
            "--os-volume-api-version", "3.24", "work-cleanup", "--host", service_host
        )

        assert "Following services will be cleaned:" in result.stdout
        assert service_host in result.stdout
        volume.refresh_from_db()
        assert volume.status == "error"
        message = UserMessage.objects.get(resource_uuid=volume.id)
        assert "cleanup was asked for" in message.user_message
        assert not Worker.objects.filter(resource_id=volume.id).exists()
    finally:
        retire_backends(host)
    check = subprocess.run(
        [sys.executable, "manage.py", "quota_check", "--project", world.project.pk],
        cwd=settings.BASE_DIR,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_only_an_admin_may_ask_for_a_cleanup(world, server):
    cinder = Cinder.keystone(server, world.owner.username, PASSWORD, world.project.name)

    result = cinder.run("--os-volume-api-version", "3.24", "work-cleanup", check=False)

    assert result.returncode != 0
    assert "Policy doesn't allow workers:cleanup to be performed" in result.stderr
