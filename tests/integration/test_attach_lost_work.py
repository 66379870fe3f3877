"""A job that dies mid-attach or mid-detach never leaves the volume attaching, reserved or
detaching: its work is cleaned up like any lost work, and the waiting caller answers."""

import os
import signal
import threading
import time
import uuid

import pytest
from django.db import connection

from agent.models import Fault
from core.cinder import quota
from core.cinder.models import UserMessage, Volume, VolumeAttachment, Worker
from core.kernel import queues
from core.kernel.models import FlowRun, Service
from tests.api.clients import Cinder
from tests.conftest import PASSWORD, make_user
from tests.integration.agent_support import (
    add_backend,
    context,
    create,
    dedicated_type,
    retire_backends,
    start_agent,
    unique_tag,
    wait_available,
)
from tests.waiting import wait_until
from volumes.lifecycle import attach, attachments

pytestmark = pytest.mark.integration
CONNECTOR = {"initiator": "iqn.1993-08.org.debian:01:cad181614cec", "host": "compute-1"}
SERVER = "6f1c2a1e-2b7c-4a53-9a57-0a4f1d0e9b11"


@pytest.fixture
def own_backend(world, cloud):
    """A backend with its own agent, so a crash kills none of the shared workers."""
    tag = unique_tag()
    host = f"attachnode-{tag}"
    vtype = dedicated_type(tag)
    backend = add_backend(host, "lvm-attach", tag)
    name = start_agent(cloud, host, ["lvm-attach"])
    try:
        yield backend, vtype
    finally:
        cloud.stop(name)
        retire_backends(host)


def test_a_worker_dying_mid_detach_puts_the_volume_back_in_use(world, own_backend):
    backend, vtype = own_backend
    volume = wait_available(create(world, size=1, volume_type=vtype.name).id)
    attach.reserve(volume)
    attach.initialize_connection(context(world), volume, CONNECTOR)
    volume.refresh_from_db()
    attach.attach(context(world), volume, SERVER, None, "/dev/vdb", "rw")
    volume.refresh_from_db()
    attach.begin_detaching(volume)
    volume.refresh_from_db()
    Fault.objects.create(backend=backend, operation="attach", crash=True)

    started = time.monotonic()
    with pytest.raises(queues.CallTimedOut):
        attach.detach(context(world), volume, None)

    # The agent cleaned the dead worker's work up and the caller saw it go, long before
    # the call's own timeout.
    assert time.monotonic() - started < 30
    volume.refresh_from_db()
    assert (volume.status, volume.attach_status) == ("in-use", "attached")
    assert not Worker.objects.filter(resource_id=volume.id).exists()
    message = UserMessage.objects.get(resource_uuid=volume.id)
    assert message.event_id == "VOLUME_VOLUME_DETACH_001" and "died" in message.user_message
    # The pool replaced the worker: the detach goes through now.
    attach.detach(context(world), Volume.objects.get(id=volume.id), None)
    assert Volume.objects.get(id=volume.id).status == "available"
    assert quota.check(str(world.project.pk)) == []


def test_cinder_work_cleanup_frees_a_volume_whose_agent_died_mid_attachment(world, server, cloud):
    tag = unique_tag()
    host = f"attachkill-{tag}"
    vtype = dedicated_type(tag)
    backend = add_backend(host, "lvm-kill", tag)
    name = start_agent(cloud, host, ["lvm-kill"])
    service_host = f"{host}@lvm-kill"
    admin = make_user(f"cleaner-{uuid.uuid4().hex[:8]}", world.project, is_superuser=True)
    cinder = Cinder.keystone(server, admin.username, PASSWORD, world.project.name)
    outcome = {}

    def attach_in_the_background(volume):
        try:
            attachments.create(context(world), volume, SERVER, CONNECTOR)
        except Exception as error:  # what the API would turn into its answer
            outcome["error"] = error
        finally:
            connection.close()

    try:
        volume = wait_available(create(world, size=1, volume_type=vtype.name).id)
        Fault.objects.create(backend=backend, operation="attach", latency_ms=120_000)
        caller = threading.Thread(target=attach_in_the_background, args=(volume,))
        caller.start()
        wait_until(
            lambda: FlowRun.objects.filter(
                volume_id=volume.id, operation="attach", tasks__name="CreateExportTask",
                tasks__state="running",
            ).exists(),
            timeout=60,
            what="the export to be under way on the agent",
        )  # fmt: skip
        assert Volume.objects.get(id=volume.id).status == "reserved"
        os.killpg(cloud.procs.pop(name).pid, signal.SIGKILL)  # the agent and its workers
        wait_until(
            lambda: not Service.objects.get(host=service_host).is_alive(),
            timeout=30,
            what="the killed agent's heartbeat to stop",
        )

        cinder.run("--os-volume-api-version", "3.24", "work-cleanup", "--host", service_host)

        caller.join(timeout=30)
        assert not caller.is_alive()
        assert isinstance(outcome.get("error"), queues.CallTimedOut)
        volume.refresh_from_db()
        assert (volume.status, volume.attach_status) == ("available", "detached")
        (attachment,) = VolumeAttachment.objects.filter(volume_id=volume.id)
        assert attachment.attach_status == "error_attaching"
        message = UserMessage.objects.get(resource_uuid=volume.id)
        assert message.event_id == "VOLUME_VOLUME_004_001"
        assert "cleanup was asked for" in message.user_message
        assert not Worker.objects.filter(resource_id=volume.id).exists()
    finally:
        cloud.stop(name)
        retire_backends(host)
    assert quota.check(str(world.project.pk)) == []
