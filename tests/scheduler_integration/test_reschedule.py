"""A failed create is rescheduled, as Cinder does it, with real workers.

Zone ``nova`` has two backends that take an untyped volume (node1@lvm-thin and
node1@lvm-thick); the capacity weigher prefers the thin one. A fault makes its
next create fail. With Cinder's default filters the reschedule gives the
consumed capacity back and weighs the same picture again, so attempt 2 goes to
the SAME pool (Cinder documents this; only IgnoreAttemptedHostsFilter avoids
it). With that filter enabled, attempt 2 runs on the OTHER backend.
"""

import pytest

from agent.drivers import backend_config
from agent.models import Fault
from core.kernel.models import FlowRun
from scheduler.models import DecisionTrace
from tests.integration.agent_support import create, first_choice, wait_available

pytestmark = pytest.mark.integration


def managers(volume) -> list[tuple[int, str, str]]:
    return [
        (r.attempt, r.state, r.host)
        for r in FlowRun.objects.filter(volume_id=volume.id, flow="manager").order_by("created_at")
    ]


@pytest.fixture
def fault_on_first_choice(cloud):
    pool = first_choice()
    fault = Fault.objects.create(backend=backend_config(pool), operation="create", fail_next=1)
    yield pool
    fault.delete()


def test_with_cinders_default_filters_the_retry_may_land_on_the_same_pool(
    world, fault_on_first_choice
):
    volume = wait_available(create(world, size=1, availability_zone="nova").id)

    pool = fault_on_first_choice
    assert managers(volume) == [(1, "reverted", pool), (2, "success", pool)]
    assert volume.host == pool
    traces = DecisionTrace.objects.filter(volume_id=volume.id).order_by("attempt")
    assert [(t.attempt, t.chosen) for t in traces] == [(1, pool), (2, pool)]


def test_a_failed_create_is_retried_on_another_backend_and_ends_available(
    world, fault_on_first_choice, scheduler_ignoring_attempted_hosts
):
    volume = wait_available(create(world, size=1, availability_zone="nova").id, timeout=90)

    first = fault_on_first_choice
    runs = managers(volume)
    assert [(attempt, state) for attempt, state, _ in runs] == [(1, "reverted"), (2, "success")]
    assert runs[0][2] == first
    assert runs[1][2].partition("#")[0] != first.partition("#")[0]  # another backend
    assert volume.status == "available" and volume.host != first
    second = DecisionTrace.objects.get(volume_id=volume.id, attempt=2)
    retry_step = next(
        s for s in second.decision["filters"] if s["name"] == "IgnoreAttemptedHostsFilter"
    )
    assert retry_step["failed"] == {first: "already attempted for this volume (this is attempt 2)"}
