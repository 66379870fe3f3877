"""A down or disabled backend is never chosen, and every trace says why it was left out.

Each test adds a backend in zone nova far bigger than the demo's, so the
capacity weigher would pick it at once if the scheduler considered it.
"""

import uuid

import pytest

from core.cinder.models import UserMessage
from scheduler import backends
from scheduler.models import DecisionTrace
from tests.integration.agent_support import create, settled, wait_available
from tests.scheduler_integration.support import backend, lvm_caps, remove
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def ghost_host(cloud):
    host = f"ghost-{uuid.uuid4().hex[:6]}@lvm"
    yield host
    remove(host)


def excluded_in_trace(volume) -> dict:
    (trace,) = DecisionTrace.objects.filter(volume_id=volume.id)
    return trace.decision.get("excluded") or {}


def test_a_backend_with_a_stale_heartbeat_is_never_chosen(world, ghost_host, settings):
    pool = backend(
        ghost_host, lvm_caps(100_000, 99_000), heartbeat_age=settings.SERVICE_DOWN_TIME + 60
    )

    volume = wait_available(create(world, size=1, availability_zone="nova").id)

    assert volume.host.startswith("node1@")
    assert excluded_in_trace(volume)[pool].startswith("backend down: last heartbeat")


def test_an_admin_disabled_backend_is_never_chosen(world, ghost_host):
    pool = backend(ghost_host, lvm_caps(100_000, 99_000), disabled_reason="maintenance window")

    volume = wait_available(create(world, size=1, availability_zone="nova").id)

    assert volume.host.startswith("node1@")
    assert excluded_in_trace(volume)[pool] == "backend disabled: maintenance window"


def test_disabling_the_preferred_demo_backend_sends_volumes_to_the_other(world, cloud):
    backends.set_disabled("node1@lvm-thin", True, "testing: drain thin")
    try:
        volume = wait_available(create(world, size=1, availability_zone="nova").id)
    finally:
        backends.set_disabled("node1@lvm-thin", False)

    assert volume.host.startswith("node1@lvm-thick#")
    assert excluded_in_trace(volume)["node1@lvm-thin#LVM_thin"] == (
        "backend disabled: testing: drain thin"
    )


def test_when_every_backend_in_the_zone_is_out_the_volume_errors_saying_why(world, cloud):
    for host in ("node1@lvm-thin", "node1@lvm-thick"):
        backends.set_disabled(host, True, "testing: zone closed")
    try:
        volume = create(world, size=1, availability_zone="nova")
        volume = wait_until(settled(volume.id), timeout=60, what="the volume to settle")
    finally:
        for host in ("node1@lvm-thin", "node1@lvm-thick"):
            backends.set_disabled(host, False)

    assert volume.status == "error"
    (trace,) = DecisionTrace.objects.filter(volume_id=volume.id)
    assert trace.chosen == ""
    assert "backend disabled: testing: zone closed" in trace.decision["excluded"].values()
    message = UserMessage.objects.get(resource_uuid=volume.id)
    assert "No valid backend was found." in message.user_message
    assert "backend disabled: testing: zone closed (2)" in message.user_message
