"""os-update_snapshot_status: a snapshot made outside Cinder reports its progress, along
the transitions Cinder allows, and never over a status that moved on."""

import pytest

from core.cinder.models import Snapshot, Volume, VolumeType


@pytest.fixture
def creating(world) -> Snapshot:
    vtype = VolumeType.default()
    volume = Volume.objects.create(
        project=world.project, user=world.owner, size=1, volume_type=vtype, status="available"
    )
    return Snapshot.objects.create(
        volume=volume, project=world.project, user=world.owner, volume_size=1,
        volume_type=vtype, status="creating", progress="0%",
    )  # fmt: skip


def update(api, snapshot, **body):
    return api.post(f"/snapshots/{snapshot.id}/action", {"os-update_snapshot_status": body})


def test_a_creating_snapshot_reports_progress_then_its_end(owner_api, creating):
    halfway = update(owner_api, creating, status="creating", progress="50%")
    shown = owner_api.get(f"/snapshots/{creating.id}").json()["snapshot"]
    done = update(owner_api, creating, status="available", progress="100%")

    assert halfway.status_code == done.status_code == 202
    assert shown["os-extended-snapshot-attributes:progress"] == "50%"
    creating.refresh_from_db()
    assert (creating.status, creating.progress) == ("available", "100%")


def test_only_cinders_transitions_and_real_percentages(owner_api, outsider_api, creating):
    wrong_target = update(owner_api, creating, status="deleting")
    bad_progress = update(owner_api, creating, status="error", progress="150%")
    not_yours = update(outsider_api, creating, status="error")
    Snapshot.objects.filter(id=creating.id).update(status="available")
    finished = update(owner_api, creating, status="error")

    assert wrong_target.status_code == bad_progress.status_code == finished.status_code == 400
    assert "not allowed" in finished.json()["badRequest"]["message"]
    assert not_yours.status_code == 404
    creating.refresh_from_db()
    assert creating.status == "available"
