"""The whole create path on real parts: API flow, RQ casts, scheduler, agent."""

import re

import pytest

from agent.drivers import backend_config, data_dir
from agent.models import Fault
from core.cinder import quota
from core.cinder.models import Notification, UserMessage, Volume
from core.kernel.models import FlowRun
from tests.waiting import wait_until
from volumes import api

pytestmark = pytest.mark.integration

API_TASKS = [
    "ExtractVolumeRequestTask",
    "QuotaReserveTask",
    "EntryCreateTask",
    "QuotaCommitTask",
    "VolumeCastTask",
]
SCHEDULER_TASKS = ["ExtractSchedulerSpecTask", "ScheduleCreateVolumeTask"]
MANAGER_TASKS = [
    "ExtractVolumeRefTask",
    "OnFailureRescheduleTask",
    "ExtractVolumeSpecTask",
    "NotifyVolumeActionTask",
    "CreateVolumeFromSpecTask",
    "CreateVolumeOnFinishTask",
]


def create(world, **kwargs) -> Volume:
    return api.create(api.request_context(world.owner, world.project), **kwargs)


def settled(volume_id, statuses=("available", "error")):
    def check():
        volume = Volume.objects.get(id=volume_id)
        runs = FlowRun.objects.filter(volume_id=volume_id)
        done = all(r.ended_at for r in runs)
        return volume if volume.status in statuses and done else None

    return check


def runs_of(volume) -> dict[str, list[FlowRun]]:
    runs = {}
    for run in FlowRun.objects.filter(volume_id=volume.id).order_by("created_at"):
        runs.setdefault(run.flow, []).append(run)
    return runs


def test_a_volume_created_through_the_api_flow_becomes_available(world, cloud):
    volume = create(world, size=1, name="first")
    assert volume.status == "creating"

    volume = wait_until(settled(volume.id), timeout=60, what="the volume to settle")

    assert volume.status == "available"
    assert re.fullmatch(r"node\d@lvm-[a-z]+#[\w-]+", volume.host)
    runs = runs_of(volume)
    for flow, names in (
        ("api", API_TASKS),
        ("scheduler", SCHEDULER_TASKS),
        ("manager", MANAGER_TASKS),
    ):
        (run,) = runs[flow]
        assert run.state == "success"
        tasks = list(run.tasks.order_by("position"))
        assert [t.name for t in tasks] == names
        for task in tasks:
            assert [h["state"] for h in task.history] == ["running", "success"]
        # Each task starts only after the one before it finished.
        for before, after in zip(tasks, tasks[1:], strict=False):
            assert before.ended_at <= after.started_at
    # The flows ran in order, each in its own process, carried by the queues: each starts
    # once the one before has cast to its queue, in its last task. (Not once it has ended:
    # the next service may take the cast while the caster's engine is still finishing.)
    for caster, taker in (("api", "scheduler"), ("scheduler", "manager")):
        cast = runs[caster][0].tasks.order_by("position").last()
        assert cast.started_at <= runs[taker][0].started_at


def test_the_backing_file_has_the_volume_size(world, cloud):
    volume = create(world, size=1)
    volume = wait_until(settled(volume.id), timeout=60, what="the volume to settle")

    assert volume.status == "available"
    backing = data_dir(backend_config(volume.host)) / f"volume-{volume.id}.img"
    assert backing.stat().st_size == 2**30


def test_create_commits_quota_and_sends_notifications(world, cloud):
    volume = create(world, size=2, volume_type="thin")
    wait_until(settled(volume.id), timeout=60, what="the volume to settle")

    usage = quota.usage_summary(world.project.pk)
    assert usage["volumes"]["in_use"] == 1 and usage["volumes"]["reserved"] == 0
    assert usage["gigabytes"]["in_use"] == 2
    assert usage["volumes_thin"]["in_use"] == 1
    notes = Notification.objects.filter(volume_id=volume.id).order_by("created_at")
    assert [n.event_type for n in notes] == ["volume.create.start", "volume.create.end"]
    start, end = notes
    assert start.payload["status"] == "creating"
    # The end's payload is the volume as the flow saved it, launched.
    volume.refresh_from_db()
    assert end.payload["status"] == "available"
    assert end.payload["launched_at"] == volume.launched_at.isoformat()
    # The tasks after ExtractVolumeRefTask take the volume it read; the page shows it.
    (manager,) = runs_of(volume)["manager"]
    notify = manager.tasks.get(name="NotifyVolumeActionTask")
    assert notify.inputs["volume"] == {
        "id": str(volume.id),
        "status": "creating",
        "size": 2,
        "host": volume.host,
        "availability_zone": volume.availability_zone,
        "volume_type_id": str(volume.volume_type_id),
    }


def test_a_driver_failure_reverts_the_manager_flow_and_reschedules(world, cloud):
    """A fault on the gold backend's next create: attempt 1 reverts, attempt 2 succeeds."""
    backend = backend_config("node2@lvm-gold")
    fault = Fault.objects.create(backend=backend, operation="create", fail_next=1)
    try:
        volume = create(world, size=1, volume_type="gold", availability_zone="az2")
        volume = wait_until(settled(volume.id), timeout=60, what="the volume to settle")
    finally:
        fault.delete()

    assert volume.status == "available"
    managers = runs_of(volume)["manager"]
    assert [(r.attempt, r.state) for r in managers] == [(1, "reverted"), (2, "success")]
    first = {t.name: t for t in managers[0].tasks.all()}
    assert first["CreateVolumeFromSpecTask"].state == "reverted"
    assert [h["state"] for h in first["CreateVolumeFromSpecTask"].history] == [
        "running",
        "failure",
        "reverting",
        "reverted",
    ]
    assert "Injected fault" in first["CreateVolumeFromSpecTask"].failure
    assert first["CreateVolumeOnFinishTask"].state == "pending"  # never ran
    assert [r.attempt for r in runs_of(volume)["scheduler"]] == [1, 2]


def test_when_every_attempt_fails_the_volume_ends_in_error_with_the_reason(world, cloud):
    """Three manager attempts revert; the fourth scheduling pass gives up, as Cinder does."""
    backend = backend_config("node2@lvm-gold")
    fault = Fault.objects.create(backend=backend, operation="create", fail_next=3)
    try:
        volume = create(world, size=1, volume_type="gold", availability_zone="az2")
        volume = wait_until(settled(volume.id), timeout=90, what="the volume to settle")
    finally:
        fault.delete()

    assert volume.status == "error"
    assert volume.host is None
    runs = runs_of(volume)
    assert [(r.attempt, r.state) for r in runs["manager"]] == [
        (1, "reverted"),
        (2, "reverted"),
        (3, "reverted"),
    ]
    for run in runs["manager"]:
        states = {t.name: t.state for t in run.tasks.all()}
        assert states["CreateVolumeFromSpecTask"] == "reverted"
        assert states["OnFailureRescheduleTask"] == "reverted"
    assert [r.attempt for r in runs["scheduler"]] == [1, 2, 3, 4]
    messages = UserMessage.objects.filter(resource_uuid=volume.id)
    # One message per failed driver create, then the scheduler's verdict.
    assert (
        sorted(m.event_id for m in messages)
        == ["VOLUME_VOLUME_001_003"] + ["VOLUME_VOLUME_008_012"] * 3
    )
    message = messages.get(event_id="VOLUME_VOLUME_001_003")
    assert "No valid backend was found" in message.user_message
    assert "Exceeded max scheduling attempts 3" in message.user_message
    # Quota stays committed for an error volume until it is deleted (Cinder's rule).
    assert quota.usage_summary(world.project.pk)["volumes"]["in_use"] == 1
