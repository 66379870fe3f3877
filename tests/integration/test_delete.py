"""Deleting volumes on real workers: the wipe really writes, quota comes back."""

import os
import threading

import pytest

from agent.drivers import backend_config
from core.cinder import exceptions, quota
from core.cinder.models import Notification, Snapshot, Volume
from core.kernel.models import FlowRun
from tests.integration.agent_support import (
    MiB,
    backing_file,
    context,
    create,
    observers_dir,
    read_at,
    volume_group,
    wait_available,
    wait_gone,
    write_at,
)
from tests.waiting import wait_until
from volumes import api

pytestmark = pytest.mark.integration

SECRET = b"customer data that must not outlive the volume"


def thick_volume_with_data(world) -> tuple[Volume, "os.PathLike"]:
    """A thick (gold) volume with data, and a hard link to its backing file.

    The link keeps the file's inode after ``lvremove`` unlinks its name, so the test can
    read exactly what was on the volume when it was removed.
    """
    volume = wait_available(create(world, size=1, volume_type="gold", availability_zone="az2").id)
    path = backing_file(volume)
    write_at(path, 0, SECRET)
    write_at(path, 700 * MiB, SECRET)
    observer = observers_dir() / f"{volume.id}.img"
    os.link(path, observer)
    return volume, observer


def delete_commands(volume_id) -> list[str]:
    run = FlowRun.objects.get(volume_id=volume_id, flow="manager", operation="delete")
    return [" ".join(c["argv"]) for t in run.tasks.all() for c in t.commands]


def test_delete_with_volume_clear_zero_zeroes_the_backing_file_before_removing_it(world, cloud):
    volume, observer = thick_volume_with_data(world)
    try:
        api.delete(context(world), volume.id)
        wait_gone(volume.id)

        assert not backing_file(volume).exists()
        assert read_at(observer, 0, len(SECRET)) == bytes(len(SECRET))
        assert read_at(observer, 700 * MiB, len(SECRET)) == bytes(len(SECRET))
        commands = delete_commands(volume.id)
        dd = [c for c in commands if c.startswith("dd if=/dev/zero")]
        assert len(dd) == 1 and f"count={1024 * MiB}" in dd[0]
        lvremove = next(i for i, c in enumerate(commands) if c.startswith("lvremove"))
        assert commands.index(dd[0]) < lvremove  # zeroed, then removed
    finally:
        observer.unlink(missing_ok=True)


def test_delete_with_volume_clear_none_writes_nothing(world, cloud):
    config = backend_config("node2@lvm-gold")
    config.volume_clear = "none"
    config.save()
    try:
        volume, observer = thick_volume_with_data(world)
        api.delete(context(world), volume.id)
        wait_gone(volume.id)

        assert not any(c.startswith("dd ") for c in delete_commands(volume.id))
        assert read_at(observer, 0, len(SECRET)) == SECRET  # the data was left as it was
    finally:
        config.volume_clear = ""
        config.save()
        observer.unlink(missing_ok=True)


def test_delete_gives_the_quota_back_and_sends_notifications(world, cloud):
    volume = wait_available(create(world, size=2).id)
    assert quota.usage_summary(world.project.pk)["gigabytes"]["in_use"] == 2

    api.delete(context(world), volume.id)
    wait_gone(volume.id)

    usage = quota.usage_summary(world.project.pk)
    assert usage["volumes"]["in_use"] == 0 and usage["gigabytes"]["in_use"] == 0
    for resource in ("volumes", "gigabytes", f"volumes_{volume.volume_type.name}"):
        assert usage[resource]["in_use"] == quota.actual_in_use(world.project.pk, resource)
    events = list(
        Notification.objects.filter(volume_id=volume.id)
        .order_by("created_at")
        .values_list("event_type", flat=True)
    )
    assert events[-2:] == ["volume.delete.start", "volume.delete.end"]


def test_two_concurrent_deletes_never_both_run(world, cloud):
    volume = wait_available(create(world, size=1).id)
    barrier = threading.Barrier(2)
    outcomes = []

    def delete():
        from django.db import connection

        barrier.wait()
        try:
            api.delete(context(world), volume.id)
            outcomes.append("deleted")
        except exceptions.InvalidVolume:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=delete) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wait_gone(volume.id)

    assert sorted(outcomes) == ["deleted", "refused"]
    assert (
        FlowRun.objects.filter(volume_id=volume.id, flow="manager", operation="delete").count() == 1
    )
    starts = Notification.objects.filter(volume_id=volume.id, event_type="volume.delete.start")
    assert starts.count() == 1
    assert quota.usage_summary(world.project.pk)["volumes"]["in_use"] == 0


def test_a_volume_with_snapshots_is_deleted_only_with_cascade(world, cloud):
    volume = wait_available(create(world, size=1).id)
    snapshot = api.create_snapshot(context(world), volume.id)
    wait_until(
        lambda: Snapshot.objects.filter(id=snapshot.id, status="available").exists(),
        timeout=60,
        what="the snapshot",
    )
    assert quota.usage_summary(world.project.pk)["snapshots"]["in_use"] == 1

    with pytest.raises(exceptions.InvalidVolume, match="have snapshots"):
        api.delete(context(world), volume.id)
    api.delete(context(world), volume.id, cascade=True)
    wait_gone(volume.id)

    assert not Snapshot.objects.filter(id=snapshot.id).exists()
    usage = quota.usage_summary(world.project.pk)
    assert usage["snapshots"]["in_use"] == 0 and usage["gigabytes"]["in_use"] == 0


def test_a_snapshot_is_deleted_and_its_quota_given_back(world, cloud):
    volume = wait_available(create(world, size=1).id)
    snapshot = api.create_snapshot(context(world), volume.id, name="s1")
    wait_until(
        lambda: Snapshot.objects.filter(id=snapshot.id, status="available").exists(),
        timeout=60,
        what="the snapshot",
    )

    api.delete_snapshot(context(world), snapshot.id)
    wait_until(
        lambda: not Snapshot.objects.filter(id=snapshot.id).exists(),
        timeout=60,
        what="the snapshot to go",
    )

    usage = quota.usage_summary(world.project.pk)
    assert usage["snapshots"]["in_use"] == 0 and usage["gigabytes"]["in_use"] == 1
    api.delete(context(world), volume.id)  # no snapshots left: allowed without cascade
    wait_gone(volume.id)


def test_a_volume_lvm_still_holds_a_snapshot_of_goes_back_to_available(world, cloud):
    """Cinder's VolumeIsBusy: the driver refuses, the delete reverts, the volume stays usable.

    (A thick volume: LVM marks a thick origin ``o``; thin snapshots do not hold their origin.)
    """
    volume = wait_available(create(world, size=1, volume_type="gold", availability_zone="az2").id)
    group = volume_group(volume.host)
    assert group.create_snapshot("_snapshot-left-behind", volume.name, MiB * 64).ok
    try:
        api.delete(context(world), volume.id)
        run = wait_until(
            lambda: FlowRun.objects.filter(
                volume_id=volume.id, flow="manager", operation="delete", state="reverted"
            ).first(),
            timeout=60,
            what="the refused delete to revert",
        )

        assert "VolumeIsBusy" in run.failure
        assert Volume.objects.get(id=volume.id).status == "available"
        assert quota.usage_summary(world.project.pk)["volumes"]["in_use"] == 1
    finally:
        group.remove_lv("_snapshot-left-behind")
    api.delete(context(world), volume.id)
    wait_gone(volume.id)


def test_deleting_a_volume_in_the_django_admin_runs_cinders_delete(world, cloud):
    from django.test import Client

    from tests.conftest import make_user
    from tests.quota.test_quota_check import quota_check

    volume = wait_available(create(world, size=1).id)
    lv = backing_file(volume)
    admin = Client()
    admin.force_login(make_user(f"root-{volume.id.hex[:8]}", is_staff=True, is_superuser=True))
    # No bare row delete: neither the page nor Django's bulk action.
    assert admin.get(f"/admin/cinder/volume/{volume.id}/delete/").status_code == 403
    listing = admin.get("/admin/cinder/volume/").content.decode()
    assert "delete_selected" not in listing and "delete_volumes" in listing

    admin.post(
        "/admin/cinder/volume/",
        {"action": "delete_volumes", "_selected_action": [str(volume.id)]},
    )
    wait_gone(volume.id)

    assert not lv.exists()
    assert quota.usage_summary(world.project.pk)["volumes"]["in_use"] == 0
    assert quota_check("--project", world.project.pk).returncode == 0
    assert FlowRun.objects.filter(volume_id=volume.id, flow="manager", operation="delete").exists()
