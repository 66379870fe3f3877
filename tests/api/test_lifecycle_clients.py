"""A volume's life after create, driven by the real `cinder` CLI against a live stack."""

import pytest

from core.cinder import quota
from core.cinder.models import Snapshot, Volume
from tests.api.conftest import status_of
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


def created(owner, size: str = "1", name: str = "v") -> str:
    volume = owner.properties("create", "--name", name, size)
    wait_until(status_of(Volume, volume["id"]), timeout=60, what="the volume")
    return volume["id"]


def test_cinder_extend_grows_the_volume_and_quota_stays_true(cli, world):
    owner, _ = cli
    volume_id = created(owner)
    owner.run("extend", volume_id, "2")

    def grown():
        volume = Volume.objects.get(id=volume_id)
        return volume.size == 2 and volume.status == "available"

    wait_until(grown, timeout=60, what="the extend")
    assert owner.properties("show", volume_id)["size"] == "2"
    assert quota.check(str(world.project.pk)) == []

    refused = owner.run("extend", volume_id, "2", check=False)
    assert refused.returncode != 0
    assert "New size for extend must be greater than current size" in refused.stderr
    assert "(HTTP 400)" in refused.stderr


def test_reset_state_and_force_delete_are_for_admins(cli, world):
    owner, admin = cli
    volume_id = created(owner)

    denied = owner.run("reset-state", "--state", "error", volume_id, check=False)
    assert denied.returncode != 0 and "(HTTP 403)" in denied.stdout + denied.stderr
    assert Volume.objects.get(id=volume_id).status == "available"

    admin.run("reset-state", "--state", "error", volume_id)
    assert admin.properties("show", volume_id)["status"] == "error"
    assert owner.run("force-delete", volume_id, check=False).returncode != 0

    admin.run("force-delete", volume_id)
    wait_until(lambda: not Volume.objects.filter(id=volume_id).exists(), 60, "the volume gone")
    assert Volume.all_objects.get(id=volume_id).status == "deleted"
    assert quota.check(str(world.project.pk)) == []


def test_snapshot_reset_state_and_force_delete(cli, world):
    owner, admin = cli
    volume_id = created(owner)
    snapshot = owner.properties("snapshot-create", volume_id)
    wait_until(status_of(Snapshot, snapshot["id"]), 60, "the snapshot")

    admin.run("snapshot-reset-state", "--state", "error", snapshot["id"])
    assert Snapshot.objects.get(id=snapshot["id"]).status == "error"
    admin.run("snapshot-reset-state", "--state", "creating", snapshot["id"])
    admin.run("snapshot-delete", "--force", snapshot["id"])
    wait_until(lambda: not Snapshot.objects.filter(id=snapshot["id"]).exists(), 60, "gone")
    assert quota.check(str(world.project.pk)) == []


def test_cinder_metadata_sets_shows_and_unsets(cli, world):
    owner, _ = cli
    volume_id = created(owner)
    owner.run("metadata", volume_id, "set", "tier=gold", "owner=lab")
    assert Volume.objects.get(id=volume_id).metadata == {"tier": "gold", "owner": "lab"}
    assert "gold" in owner.run("metadata-show", volume_id).stdout
    owner.run("metadata", volume_id, "unset", "owner")
    assert Volume.objects.get(id=volume_id).metadata == {"tier": "gold"}

    snapshot = owner.properties("snapshot-create", volume_id)
    wait_until(status_of(Snapshot, snapshot["id"]), 60, "the snapshot")
    owner.run("snapshot-metadata", snapshot["id"], "set", "why=test")
    assert Snapshot.objects.get(id=snapshot["id"]).metadata == {"why": "test"}
    owner.run("snapshot-metadata", snapshot["id"], "unset", "why")
    assert Snapshot.objects.get(id=snapshot["id"]).metadata == {}
