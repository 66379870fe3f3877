"""Extending volumes on real workers: scheduler check, lvextend, quota committed or rolled back."""

import pytest

from agent.drivers import backend_config
from agent.models import Fault
from core.cinder import exceptions, quota
from core.cinder.models import Notification, UserMessage, Volume
from core.kernel.models import FlowRun
from scheduler.models import DecisionTrace
from tests.integration.agent_support import backing_file, context, create, wait_available
from tests.waiting import wait_until
from volumes.lifecycle.extend import extend

pytestmark = pytest.mark.integration
GiB = 1024**3


def settled_extend(volume_id, statuses=("available", "error_extending")) -> Volume:
    def done():
        volume = Volume.objects.get(id=volume_id)
        runs = FlowRun.objects.filter(volume_id=volume_id, operation="extend")
        if volume.status in statuses and runs.exists() and all(r.ended_at for r in runs):
            return volume
        return None

    return wait_until(done, timeout=60, what=f"the extend of {volume_id} to end")


def gigabytes(project, field: str = "in_use") -> int:
    return quota.usage_summary(str(project.pk))["gigabytes"][field]


def test_extend_grows_the_logical_volume_and_commits_the_growth(world, cloud):
    volume = wait_available(create(world, size=1).id)
    used = gigabytes(world.project)
    extend(context(world), volume, 3)

    volume = settled_extend(volume.id)
    assert volume.status == "available" and volume.size == 3
    assert backing_file(volume).stat().st_size == 3 * GiB
    assert gigabytes(world.project) == used + 2
    assert quota.check(str(world.project.pk)) == []
    manager = FlowRun.objects.get(volume_id=volume.id, operation="extend", flow="manager")
    commands = [" ".join(c["argv"]) for t in manager.tasks.all() for c in t.commands]
    vg = backend_config(volume.host).volume_group
    assert any(c.endswith(f"lvextend -L 3g {vg}/volume-{volume.id}") for c in commands)
    scheduler = FlowRun.objects.get(volume_id=volume.id, operation="extend", flow="scheduler")
    assert scheduler.request_id and scheduler.request_id == manager.request_id
    trace = DecisionTrace.objects.get(volume_id=volume.id, operation="extend")
    assert trace.chosen == volume.host and trace.request["size"] == 2
    events = list(
        Notification.objects.filter(volume_id=volume.id, event_type__startswith="volume.resize")
        .order_by("created_at")
        .values_list("event_type", flat=True)
    )
    assert events == ["volume.resize.start", "volume.resize.end"]


def test_a_driver_failure_ends_error_extending_and_gives_the_growth_back(world, cloud):
    volume = wait_available(create(world, size=1).id)
    fault = Fault.objects.create(
        backend=backend_config(volume.host),
        operation="extend",
        fail_next=1,
    )
    used = gigabytes(world.project)
    try:
        extend(context(world), volume, 2)
        volume = settled_extend(volume.id)
    finally:
        fault.delete()
    assert volume.status == "error_extending" and volume.size == 1
    assert gigabytes(world.project) == used
    assert gigabytes(world.project, "reserved") == 0
    message = UserMessage.objects.get(resource_uuid=volume.id)
    assert message.event_id == "VOLUME_VOLUME_007_010"
    assert quota.check(str(world.project.pk)) == []


def test_no_room_on_its_pool_puts_the_volume_back_and_says_why(world, cloud):
    quota.set_limit(str(world.project.pk), "gigabytes", -1)
    volume = wait_available(create(world, size=1).id)
    extend(context(world), volume, 100_000)

    def refused():
        return UserMessage.objects.filter(resource_uuid=volume.id).first()

    message = wait_until(refused, timeout=60, what="the scheduler to refuse the extend")
    volume = settled_extend(volume.id)
    assert volume.status == "available" and volume.size == 1
    assert message.event_id == "VOLUME_VOLUME_007_003"
    assert "CapacityFilter" in message.user_message or "Cannot place" in message.user_message
    assert gigabytes(world.project, "reserved") == 0
    assert quota.check(str(world.project.pk)) == []


def test_extend_refuses_sizes_not_larger_and_volumes_not_available(world, cloud):
    volume = wait_available(create(world, size=2).id)
    with pytest.raises(exceptions.InvalidInput):
        extend(context(world), volume, 2)
    Volume.objects.filter(id=volume.id).update(status="error")
    volume.refresh_from_db()
    with pytest.raises(exceptions.InvalidVolume):
        extend(context(world), volume, 3)
    assert gigabytes(world.project, "reserved") == 0


def test_extend_over_quota_is_refused_and_leaves_the_volume_available(world, cloud):
    quota.set_limit(str(world.project.pk), "gigabytes", 2)
    volume = wait_available(create(world, size=1).id)
    with pytest.raises(exceptions.VolumeSizeExceedsAvailableQuota):
        extend(context(world), volume, 5)
    volume.refresh_from_db()
    assert volume.status == "available"
