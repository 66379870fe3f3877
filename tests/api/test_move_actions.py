"""``revert``, ``os-retype`` and ``os-migrate_volume`` refused as Cinder refuses them: the
status codes and words, and nothing claimed or reserved afterwards."""

import pytest

from core.cinder import quota
from core.cinder.models import Snapshot, Volume, VolumeType

THICK = "node1@lvm-thick#LVM_thick"


@pytest.fixture
def volume(world) -> Volume:
    return Volume.objects.create(
        project=world.project,
        user=world.owner,
        size=1,
        status="available",
        volume_type=VolumeType.default(),
        host=THICK,
        availability_zone="nova",
    )


def snapshot(volume, status="available") -> Snapshot:
    return Snapshot.objects.create(
        volume=volume,
        project=volume.project,
        user=volume.user,
        status=status,
        volume_size=volume.size,
        volume_type=volume.volume_type,
    )


def action(api, volume, body, version=None):
    if version:
        api.version = version
    return api.post(f"/volumes/{volume.id}/action", body)


def unchanged(volume, world) -> bool:
    volume.refresh_from_db()
    usage = quota.usage_summary(str(world.project.pk))
    reserved = sum(row["reserved"] for row in usage.values())
    return volume.status == "available" and volume.migration_status == "" and reserved == 0


def test_revert_exists_from_3_40_and_wants_the_latest_snapshot(owner_api, volume, world):
    older, latest = snapshot(volume), snapshot(volume)
    early = action(owner_api, volume, {"revert": {"snapshot_id": str(latest.id)}}, "volume 3.39")
    assert early.status_code == 400
    assert early.json()["badRequest"]["message"] == "There is no such action: revert"

    owner_api.version = "volume 3.40"
    stale = action(owner_api, volume, {"revert": {"snapshot_id": str(older.id)}})
    assert stale.status_code == 400
    assert "is None or not the latest one" in stale.json()["badRequest"]["message"]
    assert action(owner_api, volume, {"revert": {}}).status_code == 400
    assert action(owner_api, volume, {"revert": "x"}).status_code == 400

    Snapshot.objects.filter(id=latest.id).update(status="error")
    busy = action(owner_api, volume, {"revert": {"snapshot_id": str(latest.id)}})
    assert busy.status_code == 409
    assert "Snapshot's status must be 'available'" in busy.json()["conflictingRequest"]["message"]
    assert unchanged(volume, world)


def test_revert_of_a_volume_with_no_snapshot_is_400(owner_api, volume):
    answer = action(owner_api, volume, {"revert": {"snapshot_id": None}})
    assert answer.status_code == 400
    assert "doesn't have any snapshots" in answer.json()["badRequest"]["message"]


def test_retype_refusals_leave_nothing_reserved(owner_api, volume, world):
    same = action(owner_api, volume, {"os-retype": {"new_type": "__DEFAULT__"}})
    assert same.status_code == 400
    assert "requested type has to be different" in same.json()["badRequest"]["message"]
    unknown = action(owner_api, volume, {"os-retype": {"new_type": "no-such-type"}})
    assert unknown.status_code == 400
    assert "Invalid volume_type passed: no-such-type." in unknown.json()["badRequest"]["message"]
    policy = {"os-retype": {"new_type": "thin", "migration_policy": "always"}}
    assert action(owner_api, volume, policy).status_code == 400
    assert action(owner_api, volume, {"os-retype": {}}).status_code == 400
    Volume.objects.filter(id=volume.id).update(migration_status="migrating")
    moving = action(owner_api, volume, {"os-retype": {"new_type": "thin"}})
    assert moving.status_code == 400
    Volume.objects.filter(id=volume.id).update(migration_status="")
    assert unchanged(volume, world)


def test_migrate_is_for_admins_and_checks_the_destination(
    owner_api, admin_api, volume, world, cloud
):
    body = {"os-migrate_volume": {"host": "node2@lvm-gold#LVM_gold"}}
    denied = action(owner_api, volume, body)
    assert denied.status_code == 403
    message = denied.json()["forbidden"]["message"]
    assert message == (
        "Policy doesn't allow volume_extension:volume_admin_actions:migrate_volume to be performed."
    )

    here = action(admin_api, volume, {"os-migrate_volume": {"host": THICK}})
    assert here.status_code == 400
    assert "must be different than the current one" in here.json()["badRequest"]["message"]
    nowhere = action(admin_api, volume, {"os-migrate_volume": {"host": "nohost@none"}})
    assert nowhere.status_code == 400
    assert "No available service named 'nohost@none'" in nowhere.json()["badRequest"]["message"]
    cluster = action(admin_api, volume, {"os-migrate_volume": {"cluster": "c1"}})
    assert cluster.status_code == 400
    both = {"os-migrate_volume": {"host": THICK, "cluster": "c1"}}
    answer = action(admin_api, volume, both)
    assert answer.status_code == 400
    assert (
        "One and only one of cluster and host must be set."
        in answer.json()["badRequest"]["message"]
    )
    old = action(admin_api, volume, {"os-migrate_volume": {"cluster": "c1"}}, "volume 3.15")
    assert old.status_code == 400  # no cluster before 3.16, and host is required
    snapshot(volume)
    with_snapshot = action(admin_api, volume, body, "volume 3.71")
    assert with_snapshot.status_code == 400
    assert "have snapshots" in with_snapshot.json()["badRequest"]["message"]
    assert unchanged(volume, world)


def test_a_migration_destination_is_hidden_from_users_lists_but_not_admins(
    owner_api, admin_api, volume, world
):
    target = Volume.objects.create(
        project=world.project,
        user=world.owner,
        size=1,
        status="creating",
        volume_type=VolumeType.default(),
        host="node2@lvm-gold#LVM_gold",
        migration_status=f"target:{volume.id}",
        use_quota=False,
    )
    mine = {v["id"] for v in owner_api.get("/volumes/detail").json()["volumes"]}
    assert mine == {str(volume.id)}
    every = admin_api.get(f"/volumes/detail?all_tenants=1&project_id={world.project.pk}")
    assert str(target.id) in {v["id"] for v in every.json()["volumes"]}
