"""Cinder's delete rules, at the API: which statuses may be deleted, and exactly once."""

import threading
import uuid

import pytest

from core.cinder import exceptions, quota
from core.cinder.models import Snapshot, Volume, VolumeType
from core.kernel.queues import get_queue
from volumes import api

ALLOWED = ["available", "error", "error_restoring", "error_extending", "error_managing"]
REFUSED = ["creating", "deleting", "in-use", "attaching", "downloading", "error_deleting"]


def context(world) -> dict:
    return api.request_context(world.owner, world.project)


def volume_row(world, status: str, host: str | None, **fields) -> Volume:
    """A volume as the API would find it; its quota reserved and committed as a create does."""
    vtype = VolumeType.default()
    deltas = quota.add_volume_type_opts({"volumes": 1, "gigabytes": 1}, vtype.name)
    quota.commit(quota.reserve(world.project.pk, deltas))
    return Volume.objects.create(
        project=world.project,
        user=world.owner,
        size=1,
        status=status,
        volume_type=vtype,
        host=host,
        **fields,
    )


def nowhere() -> str:
    """A backend nobody serves: the cast lands on its queue and stays there to be counted."""
    return f"nowhere-{uuid.uuid4().hex[:8]}@lvm#lvm"


@pytest.mark.parametrize("status", ALLOWED)
def test_it_deletes_from_the_statuses_cinder_allows(world, status):
    host = nowhere()
    volume = volume_row(world, status, host)

    api.delete(context(world), volume.id)

    volume.refresh_from_db()
    expected = "error_managing_deleting" if status == "error_managing" else "deleting"
    assert volume.status == expected
    assert get_queue(f"volume.{host.partition('#')[0]}").count == 1


@pytest.mark.parametrize("status", REFUSED)
def test_it_refuses_other_statuses_with_cinders_message(world, status):
    host = nowhere()
    volume = volume_row(world, status, host)

    with pytest.raises(exceptions.InvalidVolume) as refused:
        api.delete(context(world), volume.id)

    assert str(refused.value).startswith(
        "Invalid volume: Volume status must be available or error or error_restoring"
    )
    volume.refresh_from_db()
    assert volume.status == status
    assert get_queue(f"volume.{host.partition('#')[0]}").count == 0


def test_force_skips_the_status_check(world):
    volume = volume_row(world, "error_deleting", nowhere())
    api.delete(context(world), volume.id, force=True)
    volume.refresh_from_db()
    assert volume.status == "deleting"


def test_it_refuses_an_attached_volume_even_with_force(world):
    volume = volume_row(world, "available", nowhere(), attach_status="attached")
    with pytest.raises(exceptions.InvalidVolume):
        api.delete(context(world), volume.id, force=True)


def test_it_refuses_a_volume_with_snapshots_unless_cascading(world):
    volume = volume_row(world, "available", nowhere())
    Snapshot.objects.create(
        volume=volume,
        project=world.project,
        user=world.owner,
        status="available",
        volume_size=1,
        volume_type=volume.volume_type,
    )
    with pytest.raises(exceptions.InvalidVolume, match="have snapshots"):
        api.delete(context(world), volume.id)

    api.delete(context(world), volume.id, cascade=True)

    assert set(Snapshot.objects.filter(volume=volume).values_list("status", flat=True)) == {
        "deleting"
    }


def test_a_volume_never_scheduled_is_removed_at_once_and_its_quota_released(world):
    volume = volume_row(world, "error", host=None)
    assert quota.usage_summary(world.project.pk)["volumes"]["in_use"] == 1

    api.delete(context(world), volume.id)

    assert not Volume.objects.filter(id=volume.id).exists()
    usage = quota.usage_summary(world.project.pk)
    assert usage["volumes"]["in_use"] == 0 and usage["gigabytes"]["in_use"] == 0


def test_outsiders_get_not_found(world):
    volume = volume_row(world, "available", nowhere())
    outsider = api.request_context(world.outsider, world.outsider.projects.first())
    with pytest.raises(exceptions.VolumeNotFound):
        api.delete(outsider, volume.id)
    with pytest.raises(exceptions.VolumeNotFound):
        api.delete(context(world), "not-a-uuid")


def test_two_concurrent_deletes_claim_the_volume_once(world):
    host = nowhere()
    volume = volume_row(world, "available", host)
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

    assert sorted(outcomes) == ["deleted", "refused"]
    assert get_queue(f"volume.{host.partition('#')[0]}").count == 1


def test_a_snapshot_is_made_only_of_an_available_volume(world):
    volume = volume_row(world, "error", nowhere())
    with pytest.raises(exceptions.InvalidVolume, match="status must be available"):
        api.create_snapshot(context(world), volume.id)
    assert not Snapshot.objects.filter(volume=volume).exists()
    assert quota.usage_summary(world.project.pk)["snapshots"]["in_use"] == 0


def test_a_snapshot_is_deleted_only_from_available_or_error(world):
    volume = volume_row(world, "available", nowhere())
    snapshot = Snapshot.objects.create(
        volume=volume,
        project=world.project,
        user=world.owner,
        status="creating",
        volume_size=1,
        volume_type=volume.volume_type,
    )
    with pytest.raises(exceptions.InvalidSnapshot, match="must be available or error"):
        api.delete_snapshot(context(world), snapshot.id)
    Snapshot.objects.filter(id=snapshot.id).update(status="error")
    api.delete_snapshot(context(world), snapshot.id)
    snapshot.refresh_from_db()
    assert snapshot.status == "deleting"
