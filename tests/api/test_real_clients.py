"""The real python-cinderclient CLI and openstacksdk against a live server and real workers.

Each scenario runs twice: with Keystone password auth (the server fixture's
default CINDERLAB_AUTH=keystone) and with noauth (a second daphne started
with CINDERLAB_AUTH=noauth on the same database and Redis).
"""

import pytest

from core.cinder.models import Snapshot, Volume
from tests.api.conftest import status_of
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

# What `cinder create` prints for a member at 3.71: Cinder's fields, links dropped.
MEMBER_CREATE_FIELDS = {
    "attachments", "availability_zone", "bootable", "consistencygroup_id", "consumes_quota",
    "created_at", "description", "encrypted", "group_id", "id", "metadata", "multiattach",
    "name", "os-vol-tenant-attr:tenant_id", "replication_status", "service_uuid",
    "shared_targets", "size", "snapshot_id", "source_volid", "status", "updated_at",
    "user_id", "volume_type", "volume_type_id",
}  # fmt: skip
ADMIN_EXTRA_FIELDS = {
    "cluster_name", "migration_status", "os-vol-host-attr:host",
    "os-vol-mig-status-attr:migstat", "os-vol-mig-status-attr:name_id", "provider_id",
}  # fmt: skip


def test_cinder_create_prints_cinders_fields_and_the_volume_becomes_available(cli, world):
    owner, admin = cli
    created = owner.properties("create", "--name", "first", "1")
    assert set(created) == MEMBER_CREATE_FIELDS
    assert created["status"] == "creating"
    assert created["name"] == "first"
    assert created["volume_type"] == "__DEFAULT__"
    assert created["os-vol-tenant-attr:tenant_id"] == world.project.pk

    status = wait_until(status_of(Volume, created["id"]), timeout=60, what="the volume")
    assert status == "available"
    shown = owner.properties("show", created["id"])
    assert shown["status"] == "available"
    assert [row["ID"] for row in owner.rows("list")] == [created["id"]]

    # `cinder show` turns attachments into attached_servers/attachment_ids.
    as_admin = admin.properties("show", created["id"])
    shown_fields = MEMBER_CREATE_FIELDS - {"attachments"} | {"attached_servers", "attachment_ids"}
    assert set(shown) == shown_fields
    assert set(as_admin) == shown_fields | ADMIN_EXTRA_FIELDS
    assert as_admin["os-vol-host-attr:host"].startswith("node")


def test_snapshots_and_clones_round_trip_through_the_cli(cli, world):
    owner, _ = cli
    volume = owner.properties("create", "--name", "origin", "2")
    wait_until(status_of(Volume, volume["id"]), timeout=60, what="the origin volume")

    snapshot = owner.properties("snapshot-create", "--name", "snap", volume["id"])
    assert snapshot["status"] == "creating"
    assert wait_until(status_of(Snapshot, snapshot["id"]), 60, "the snapshot") == "available"

    from_snapshot = owner.properties("create", "--snapshot-id", snapshot["id"], "--name", "fs")
    assert from_snapshot["snapshot_id"] == snapshot["id"]
    assert from_snapshot["size"] == "2"
    clone = owner.properties("create", "--source-volid", volume["id"], "--name", "clone")
    assert clone["source_volid"] == volume["id"]
    for made in (from_snapshot, clone):
        assert wait_until(status_of(Volume, made["id"]), 60, "a sourced volume") == "available"

    for made in (from_snapshot, clone):
        result = owner.run("delete", made["id"])
        assert f"Request to delete volume {made['id']} has been accepted." in result.stdout
    owner.run("snapshot-delete", snapshot["id"])
    wait_until(lambda: not Snapshot.objects.filter(id=snapshot["id"]).exists(), 60, "snap gone")
    owner.run("delete", volume["id"])
    gone = [volume["id"], from_snapshot["id"], clone["id"]]
    wait_until(lambda: not Volume.objects.filter(id__in=gone).exists(), 60, "volumes gone")


def test_quota_commands_show_and_change_the_projects_quota(cli, world):
    owner, admin = cli
    volume = owner.properties("create", "3")
    wait_until(status_of(Volume, volume["id"]), timeout=60, what="the volume")

    quota = owner.properties("quota-show", world.project.pk)
    assert quota["volumes"] == "10"
    assert quota["gigabytes"] == "1000"
    usage = {row["Type"]: row for row in owner.rows("quota-usage", world.project.pk)}
    assert usage["volumes"]["In_use"] == "1"
    assert usage["gigabytes"]["In_use"] == "3"
    assert usage["volumes___DEFAULT__"]["Limit"] == "-1"

    refused = owner.run("quota-update", "--volumes", "20", world.project.pk, check=False)
    assert refused.returncode != 0 and "HTTP 403" in refused.stderr
    updated = admin.properties("quota-update", "--volumes", "20", world.project.pk)
    assert updated["volumes"] == "20"
    assert owner.properties("quota-show", world.project.pk)["volumes"] == "20"


def test_admin_commands_list_types_specs_zones_and_pools(cli):
    owner, admin = cli
    types = {row["Name"]: row for row in owner.rows("type-list")}
    assert {"__DEFAULT__", "thin", "gold"} <= set(types)
    specs = {row["Name"]: row for row in admin.rows("extra-specs-list")}
    assert "capabilities:storage_tier" in specs["gold"]["extra_specs"]

    zones = {row["Name"]: row["Status"] for row in owner.rows("availability-zone-list")}
    assert zones == {"nova": "available", "az2": "available"}

    pools = admin.run("get-pools", "--detail").stdout
    for name in ("node1@lvm-thick#LVM_thick", "node1@lvm-thin#LVM_thin", "node2@lvm-gold#"):
        assert name in pools
    assert "total_capacity_gb" in pools
    refused = owner.run("get-pools", check=False)
    assert refused.returncode != 0 and "HTTP 403" in refused.stderr


def test_openstacksdk_creates_lists_snapshots_and_deletes(sdk, world):
    storage = sdk.block_storage
    volume = storage.create_volume(size=1, name="sdk1")
    assert volume.status == "creating"
    wait_until(status_of(Volume, volume.id), timeout=60, what="the sdk volume")
    assert storage.get_volume(volume.id).status == "available"
    assert volume.id in [v.id for v in storage.volumes()]

    snapshot = storage.create_snapshot(volume_id=volume.id, name="sdk-snap")
    wait_until(status_of(Snapshot, snapshot.id), timeout=60, what="the sdk snapshot")
    storage.delete_snapshot(snapshot.id)
    wait_until(lambda: not Snapshot.objects.filter(id=snapshot.id).exists(), 60, "snap gone")
    storage.delete_volume(volume.id)
    wait_until(lambda: not Volume.objects.filter(id=volume.id).exists(), 60, "volume gone")
