"""Reverting to a snapshot on real workers: the data comes back, the statuses and quota stay
true, a failure or a dead worker leaves the volume ``error`` and the snapshot usable."""

import pytest

from agent.drivers import backend_config
from agent.models import Fault
from core.cinder import exceptions, quota
from core.cinder.models import Notification, Snapshot, UserMessage, Volume
from core.kernel.models import FlowRun
from tests.integration.agent_support import (
    add_backend,
    backing_file,
    context,
    create,
    dedicated_type,
    delete_left_over,
    operation_ended,
    read_at,
    retire_backends,
    start_agent,
    unique_tag,
    wait_available,
    wait_snapshot,
    write_at,
)
from tests.waiting import wait_until
from volumes import api
from volumes.lifecycle import revert

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def give_the_space_back(world):
    yield
    delete_left_over(world)


MiB = 1024**2
BEFORE = b"the data the snapshot keeps " * 16
AFTER = b"written after the snapshot!! " * 16


def snapshotted(world, **create_args) -> tuple[Volume, Snapshot]:
    """A volume holding BEFORE at 5 MiB, its snapshot, then AFTER written over it."""
    volume = wait_available(create(world, size=1, **create_args).id)
    write_at(backing_file(volume), 5 * MiB, BEFORE)
    snapshot = wait_snapshot(api.create_snapshot(context(world), volume.id).id)
    assert snapshot.status == "available"
    write_at(backing_file(volume), 5 * MiB, AFTER)
    return volume, snapshot


def commands(volume_id) -> list[str]:
    run = FlowRun.objects.get(volume_id=volume_id, operation="revert", flow="manager")
    return [" ".join(c["argv"]) for t in run.tasks.all() for c in t.commands]


def test_a_thick_revert_brings_the_snapshots_data_back_with_lvconvert_merge(world, cloud):
    volume, snapshot = snapshotted(world, volume_type="gold", availability_zone="az2")
    revert.revert(context(world), volume, revert.check_latest(volume, str(snapshot.id)))
    assert Volume.objects.get(id=volume.id).status in ("reverting", "available")

    volume = operation_ended(volume.id, "revert", ("available", "error"))
    assert volume.status == "available"
    assert read_at(backing_file(volume), 5 * MiB, len(BEFORE)) == BEFORE
    snapshot.refresh_from_db()
    assert snapshot.status == "available"
    vg = backend_config(volume.host).volume_group
    lines = commands(volume.id)
    assert f"lvconvert --merge {vg}/_snapshot-{snapshot.id}" in lines
    assert any(f"lvcreate --name _snapshot-{snapshot.id} --snapshot" in line for line in lines)
    # The backup snapshot was taken and deleted again: only the user's snapshot is left.
    assert list(Snapshot.objects.filter(volume_id=volume.id)) == [snapshot]
    run = FlowRun.objects.get(volume_id=volume.id, operation="revert", flow="manager")
    backup_id = run.tasks.get(name="CreateBackupSnapshotTask").result["backup_snapshot_id"]
    assert any(line.endswith(f"-f {vg}/_snapshot-{backup_id}") for line in lines)
    events = set(
        Notification.objects.filter(volume_id=volume.id).values_list("event_type", flat=True)
    )
    assert {"volume.revert.start", "volume.revert.end"} <= events
    assert {"snapshot.revert.start", "snapshot.revert.end"} <= events
    assert quota.check(str(world.project.pk)) == []


def test_a_thin_revert_takes_the_generic_way_and_still_restores_the_data(world, cloud):
    volume, snapshot = snapshotted(world, volume_type="thin")
    revert.revert(context(world), volume, revert.check_latest(volume, str(snapshot.id)))

    volume = operation_ended(volume.id, "revert", ("available", "error"))
    assert volume.status == "available"
    assert read_at(backing_file(volume), 5 * MiB, len(BEFORE)) == BEFORE
    run = FlowRun.objects.get(volume_id=volume.id, operation="revert", flow="manager")
    assert run.tasks.get(name="RevertToSnapshotTask").result["method"] == "generic"
    assert not any("lvconvert" in line for line in commands(volume.id))
    assert quota.check(str(world.project.pk)) == []


def test_only_the_latest_snapshot_of_the_same_size_may_be_reverted_to(world, cloud):
    volume = wait_available(create(world, size=1, volume_type="gold", availability_zone="az2").id)
    with pytest.raises(exceptions.Invalid, match="doesn't have any snapshots"):
        revert.check_latest(volume, None)
    older = wait_snapshot(api.create_snapshot(context(world), volume.id).id)
    newer = wait_snapshot(api.create_snapshot(context(world), volume.id).id)

    with pytest.raises(exceptions.Invalid, match="is None or not the latest one"):
        revert.check_latest(volume, str(older.id))
    assert revert.check_latest(volume, str(newer.id)) == newer
    Volume.objects.filter(id=volume.id).update(status="error")
    volume.refresh_from_db()
    with pytest.raises(exceptions.InvalidVolume, match="Volume's status must be 'available'"):
        revert.revert(context(world), volume, newer)
    Volume.objects.filter(id=volume.id).update(status="available")
    Snapshot.objects.filter(id=newer.id).update(status="error")
    with pytest.raises(exceptions.InvalidSnapshot):
        revert.revert(context(world), volume, newer)
    assert Volume.objects.get(id=volume.id).status == "available"  # nothing half-claimed


def test_a_driver_failure_leaves_the_volume_error_and_the_snapshot_available(world, cloud):
    volume, snapshot = snapshotted(world, volume_type="gold", availability_zone="az2")
    fault = Fault.objects.create(
        backend=backend_config(volume.host), operation="revert", fail_next=1
    )
    try:
        revert.revert(context(world), volume, revert.check_latest(volume, str(snapshot.id)))
        volume = operation_ended(volume.id, "revert", ("available", "error"))
    finally:
        fault.delete()

    assert volume.status == "error"
    assert Snapshot.objects.get(id=snapshot.id).status == "available"
    message = UserMessage.objects.get(resource_uuid=volume.id)
    assert message.event_id == "VOLUME_VOLUME_REVERT_001"
    # Cinder keeps the backup snapshot when a revert fails: the data can be restored from it.
    backup = Snapshot.objects.get(volume_id=volume.id, display_name__startswith="[revert]")
    assert backup.status == "available" and not backup.use_quota
    assert read_at(backing_file(volume), 5 * MiB, len(AFTER)) == AFTER
    assert quota.check(str(world.project.pk)) == []


def test_a_worker_dying_mid_revert_never_leaves_the_volume_reverting(world, cloud):
    tag = unique_tag()
    host = f"revertnode-{tag}"
    vtype = dedicated_type(tag)
    backend = add_backend(host, "lvm-revert", tag)
    name = start_agent(cloud, host, ["lvm-revert"])
    try:
        volume, snapshot = snapshotted(world, volume_type=vtype.name)
        fault = Fault.objects.create(backend=backend, operation="revert", crash=True)
        revert.revert(context(world), volume, revert.check_latest(volume, str(snapshot.id)))
        wait_until(
            lambda: Fault.objects.filter(id=fault.id, hits=1).exists(), 60, "the crash to fire"
        )
        volume = wait_until(
            lambda: Volume.objects.filter(id=volume.id, status="error").first(),
            timeout=60,
            what="the agent to clean the dead worker's revert up",
        )
    finally:
        cloud.stop(name)
        retire_backends(host)

    assert Snapshot.objects.get(id=snapshot.id).status == "available"
    message = UserMessage.objects.get(resource_uuid=volume.id)
    assert message.event_id == "VOLUME_VOLUME_REVERT_001" and "died" in message.user_message
    assert quota.check(str(world.project.pk)) == []
