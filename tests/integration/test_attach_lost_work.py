"""A job that dies mid-attach or mid-detach never leaves the volume attaching, reserved or
detaching: its work is cleaned up like any lost work, and the waiting caller answers."""

import time

import pytest

from agent.models import Fault
from core.cinder import quota
from core.cinder.models import UserMessage, Volume, Worker
from core.kernel import queues
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
from volumes.lifecycle import attach

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
