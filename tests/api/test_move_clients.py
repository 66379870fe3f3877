"""Revert to snapshot, retype and migrate, driven by the real `cinder` CLI against a live stack
with real workers: each ends in Cinder's documented state with quota still true."""

import pytest

from core.cinder import quota
from core.cinder.models import Snapshot, Volume
from tests.api.conftest import status_of
from tests.integration.agent_support import (
    backing_file,
    delete_left_over,
    operation_ended,
    read_at,
    write_at,
)
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def give_the_space_back(world):
    yield
    delete_left_over(world)


MiB = 1024**2


def created(owner, *args: str, size: str = "1") -> Volume:
    volume = owner.properties("create", "--name", "moving", *args, size)
    wait_until(status_of(Volume, volume["id"]), timeout=60, what="the volume")
    return Volume.objects.get(id=volume["id"])


def snapshot(owner, volume: Volume) -> str:
    snap = owner.properties("snapshot-create", str(volume.id))
    wait_until(status_of(Snapshot, snap["id"]), timeout=60, what="the snapshot")
    return snap["id"]


def test_cinder_revert_to_snapshot_brings_the_latest_snapshots_data_back(cli, world):
    owner, _ = cli
    volume = created(owner, "--volume-type", "gold", "--availability-zone", "az2")
    write_at(backing_file(volume), 3 * MiB, b"first state")
    older = snapshot(owner, volume)
    write_at(backing_file(volume), 3 * MiB, b"second state")
    latest = snapshot(owner, volume)
    write_at(backing_file(volume), 3 * MiB, b"third state!")

    refused = owner.run("revert-to-snapshot", older, check=False)
    assert refused.returncode != 0 and "(HTTP 400)" in refused.stderr
    assert "not the latest one" in refused.stderr

    owner.run("revert-to-snapshot", latest)
    volume = operation_ended(volume.id, "revert")
    assert owner.properties("show", str(volume.id))["status"] == "available"
    assert read_at(backing_file(volume), 3 * MiB, 12) == b"second state"
    assert owner.properties("snapshot-show", latest)["status"] == "available"
    assert quota.check(str(world.project.pk)) == []


def test_cinder_retype_on_demand_moves_the_volume_to_the_only_backend_with_the_type(cli, world):
    owner, admin = cli
    gold = f"gold-{world.project.name}"
    admin.run("type-create", gold)
    # Gold lives in az2 only: the type says so, or a retype keeps the volume in its zone.
    admin.run(
        "type-key", gold, "set", "capabilities:storage_tier=gold", "RESKEY:availability_zones=az2"
    )
    volume = created(owner)
    write_at(backing_file(volume), 9 * MiB, b"bytes that travel")
    old_type = volume.volume_type.name

    same = owner.run("retype", str(volume.id), old_type, check=False)
    assert same.returncode != 0 and "(HTTP 400)" in same.stderr
    assert quota.check(str(world.project.pk)) == []

    owner.run("retype", "--migration-policy", "on-demand", str(volume.id), gold)
    volume = operation_ended(volume.id, "retype")
    shown = admin.properties("show", str(volume.id))
    assert shown["volume_type"] == gold and shown["status"] == "available"
    assert shown["os-vol-host-attr:host"] == "node2@lvm-gold#LVM_gold"
    assert shown["migration_status"] == "success"
    assert read_at(backing_file(volume), 9 * MiB, 17) == b"bytes that travel"
    assert quota.check(str(world.project.pk)) == []


def test_cinder_migrate_moves_the_volume_and_refuses_its_own_host_and_members(cli, world):
    owner, admin = cli
    volume = created(owner)
    write_at(backing_file(volume), 11 * MiB, b"migrated bytes")
    source = volume.host

    # `cinder migrate` prints a refusal ("Migration for volume ... failed") and exits 0.
    denied = owner.run("migrate", str(volume.id), "node2@lvm-gold#LVM_gold").stdout
    assert "failed" in denied and "(HTTP 403)" in denied
    here = admin.run("migrate", str(volume.id), source).stdout
    assert "(HTTP 400)" in here and "destination host/cluster must be different" in here
    assert Volume.objects.get(id=volume.id).migration_status == ""

    admin.run("migrate", str(volume.id), "node2@lvm-gold#LVM_gold")
    volume = operation_ended(volume.id, "migrate")
    shown = admin.properties("show", str(volume.id))
    assert shown["os-vol-host-attr:host"] == "node2@lvm-gold#LVM_gold"
    assert shown["migration_status"] == "success" and shown["status"] == "available"
    assert read_at(backing_file(volume), 11 * MiB, 14) == b"migrated bytes"
    # The temporary destination is hidden from the owner's list while it is a target (once
    # swapped it is the old copy, 'deleting', until its delete ends, as in Cinder).
    wait_until(
        lambda: Volume.all_objects.filter(
            display_description=f"migration src for {volume.id}", deleted=True
        ).exists(),
        60,
        "the old copy to be deleted",
    )
    listed = [row["ID"] for row in owner.rows("list")]
    assert listed == [str(volume.id)]
    assert quota.check(str(world.project.pk)) == []
