"""Migrating and retyping on real workers: the generic host-assisted migration (a destination
created on the target by its own create flow, dd, the rows swapped, the old LV deleted),
retype in place, and what failures and dead workers leave behind."""

import re
import uuid

import pytest
from django.test import Client

from agent.drivers import backend_config
from agent.models import Fault
from core.cinder import exceptions, quota
from core.cinder.models import Notification, UserMessage, Volume, VolumeType, VolumeTypeExtraSpec
from core.kernel.models import FlowRun
from scheduler.models import DecisionTrace
from tests.integration.agent_support import (
    add_backend,
    backing_file,
    context,
    create,
    delete_left_over,
    operation_ended,
    read_at,
    retire_backends,
    start_agent,
    unique_tag,
    volume_group,
    wait_available,
    wait_snapshot,
    write_at,
)
from tests.waiting import wait_until
from volumes import api
from volumes.lifecycle import migrate, retype

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def give_the_space_back(world):
    yield
    delete_left_over(world)


MiB = 1024**2
GiB = 1024**3
THICK = "node1@lvm-thick#LVM_thick"
THIN = "node1@lvm-thin#LVM_thin"
GOLD = "node2@lvm-gold#LVM_gold"
DATA = b"data that must survive the move " * 16


def admin_context(world) -> dict:
    return {**context(world), "is_admin": True}


def thick_volume(world) -> Volume:
    """A 1 GiB volume on the thick backend with DATA at 7 MiB and at its very end."""
    vtype = VolumeType.objects.create(name=f"thick-{uuid.uuid4().hex[:8]}")
    VolumeTypeExtraSpec.objects.create(
        volume_type=vtype, key="volume_backend_name", value="LVM_thick"
    )
    volume = wait_available(create(world, size=1, volume_type=vtype.name).id)
    assert volume.host == THICK
    write_at(backing_file(volume), 7 * MiB, DATA)
    write_at(backing_file(volume), GiB - 4, b"tail")
    return volume


def untyped_volume(world) -> Volume:
    """A 1 GiB volume of the default type (no specs: any backend takes it) holding DATA."""
    volume = wait_available(create(world, size=1).id)
    write_at(backing_file(volume), 7 * MiB, DATA)
    write_at(backing_file(volume), GiB - 4, b"tail")
    return volume


def gold_anywhere() -> VolumeType:
    """Gold, allowed in az2 (a retype keeps a volume in its own zone unless the new type
    names zones, as Cinder's API does)."""
    vtype = VolumeType.objects.create(name=f"gold-{uuid.uuid4().hex[:8]}")
    for key, value in (("capabilities:storage_tier", "gold"), ("RESKEY:availability_zones", "az2")):
        VolumeTypeExtraSpec.objects.create(volume_type=vtype, key=key, value=value)
    return vtype


def manager_commands(volume_id, operation: str) -> list[str]:
    runs = FlowRun.objects.filter(volume_id=volume_id, operation=operation, flow="manager")
    return [" ".join(c["argv"]) for r in runs for t in r.tasks.all() for c in t.commands]


def test_a_migration_moves_the_data_and_keeps_the_volumes_id(world, cloud):
    volume = untyped_volume(world)
    old_lv = volume_group(volume.host).lv_path(volume.name)
    migrate.migrate(admin_context(world), volume, GOLD)

    volume = operation_ended(volume.id, "migrate")
    assert volume.host == GOLD and volume.migration_status == "success"
    assert volume.status == "available" and volume.availability_zone == "az2"
    assert volume.name_id is None  # the new LV was renamed to the volume's own name
    assert read_at(backing_file(volume), 7 * MiB, len(DATA)) == DATA
    assert read_at(backing_file(volume), GiB - 4, 4) == b"tail"
    # The temporary row went (soft-deleted) with the old LV, and was never counted.
    temp = wait_until(
        lambda: Volume.all_objects.filter(
            display_description=f"migration src for {volume.id}", deleted=True
        ).first(),
        60,
        "the temporary volume to be deleted",
    )
    assert not old_lv.exists() and not temp.use_quota
    wait_until(
        lambda: all(r.ended_at for r in FlowRun.objects.filter(volume_id=volume.id)), 60, "runs"
    )
    commands = manager_commands(volume.id, "migrate")
    assert any(c.startswith("dd if=/dev/mapper/cinder--volumes-volume--") for c in commands)
    assert f"lvrename cinder-volumes volume-{temp.id} volume-{volume.id}" in commands
    flows = set(
        FlowRun.objects.filter(volume_id=volume.id, operation="migrate").values_list(
            "flow_name", flat=True
        )
    )
    assert flows == {
        "volume_migrate_scheduler",
        "volume_migrate_manager",
        "volume_create_manager",
        "volume_migrate_completion",
        "volume_delete_manager",
    }
    assert DecisionTrace.objects.get(volume_id=volume.id, operation="migrate").chosen == GOLD
    assert quota.check(str(world.project.pk)) == []
    # The page shows the whole move as one operation, each run with its own ids.
    client = Client()
    client.force_login(world.owner)
    shown = client.get(f"/volumes/{volume.id}/").content.decode()
    assert shown.count('data-operation="migrate"') == 1
    for name in flows:
        assert name in shown
    ids = re.findall(r'id="(run-[^"]+)"', shown)
    assert len(ids) == len(set(ids)) >= 5


def test_migrating_to_where_it_is_or_to_no_service_is_refused(world, cloud):
    volume = thick_volume(world)
    with pytest.raises(exceptions.InvalidVolume, match="must be different"):
        migrate.migrate(admin_context(world), volume, THICK)
    with pytest.raises(exceptions.InvalidHost, match="No available service named 'nowhere@x'"):
        migrate.migrate(admin_context(world), volume, "nowhere@x")
    volume.refresh_from_db()
    assert volume.status == "available" and volume.migration_status == ""


def test_the_scheduler_refusing_the_destination_ends_the_migration_error(world, cloud):
    volume = thick_volume(world)
    migrate.migrate(admin_context(world), volume, GOLD, lock_volume=True)
    # The gold pool does not pass the volume's own type (silver tier) -- as Cinder, only
    # the migration fails; the locked volume comes back.

    def refused():
        return UserMessage.objects.filter(resource_uuid=volume.id).first()

    message = wait_until(refused, 60, "the scheduler to refuse the destination")
    volume.refresh_from_db()
    assert volume.migration_status == "error" and volume.status == "available"
    assert message.event_id == "VOLUME_VOLUME_MIGRATE_003"
    assert Notification.objects.filter(
        volume_id=volume.id, event_type="scheduler.migrate_volume_to_host", priority="ERROR"
    ).exists()


def test_retype_in_place_moves_per_type_quota_and_sends_volume_retype(world, cloud):
    volume = thick_volume(world)
    silver = VolumeType.objects.create(name=f"silver-{uuid.uuid4().hex[:8]}")
    VolumeTypeExtraSpec.objects.create(
        volume_type=silver, key="capabilities:storage_tier", value="silver"
    )
    old = volume.volume_type.name
    retype.retype(context(world), volume, silver.name, "never")

    volume = operation_ended(volume.id, "retype")
    assert volume.volume_type_id == silver.id and volume.host == THICK
    usage = quota.usage_summary(str(world.project.pk))
    assert usage[f"volumes_{silver.name}"]["in_use"] == 1
    assert usage[f"volumes_{old}"]["in_use"] == 0
    assert usage[f"gigabytes_{silver.name}"]["in_use"] == 1
    assert Notification.objects.filter(volume_id=volume.id, event_type="volume.retype").exists()
    assert quota.check(str(world.project.pk)) == []

    with pytest.raises(exceptions.InvalidVolume, match="requested type has to be different"):
        retype.retype(context(world), volume, silver.name, "never")
    assert quota.check(str(world.project.pk)) == []


def test_retype_on_demand_migrates_to_the_only_backend_offering_the_type(world, cloud):
    volume = thick_volume(world)
    gold = gold_anywhere()
    retype.retype(context(world), volume, gold.name, "on-demand")

    volume = operation_ended(volume.id, "retype")
    assert volume.host == GOLD and volume.volume_type_id == gold.id
    assert volume.migration_status == "success" and volume.status == "available"
    assert read_at(backing_file(volume), 7 * MiB, len(DATA)) == DATA
    assert quota.usage_summary(str(world.project.pk))[f"volumes_{gold.name}"]["in_use"] == 1
    assert quota.check(str(world.project.pk)) == []


def test_retype_that_needs_a_migration_is_refused_under_policy_never(world, cloud):
    volume = thick_volume(world)
    gold = gold_anywhere()
    retype.retype(context(world), volume, gold.name, "never")

    message = wait_until(
        lambda: UserMessage.objects.filter(resource_uuid=volume.id).first(), 60, "the refusal"
    )
    volume = Volume.objects.get(id=volume.id)
    assert volume.status == "available" and volume.host == THICK
    assert message.event_id == "VOLUME_VOLUME_RETYPE_003"
    assert "migration not allowed" in message.user_message
    assert quota.usage_summary(str(world.project.pk))[f"volumes_{gold.name}"]["reserved"] == 0
    assert quota.check(str(world.project.pk)) == []


def test_a_failed_copy_ends_the_migration_error_and_removes_the_destination(world, cloud):
    volume = untyped_volume(world)
    source = volume.host
    fault = Fault.objects.create(backend=backend_config(source), operation="migrate", fail_next=1)
    try:
        migrate.migrate(admin_context(world), volume, GOLD)
        volume = operation_ended(volume.id, "migrate", timeout=90)
    finally:
        fault.delete()

    assert volume.migration_status == "error" and volume.host == source
    assert volume.status == "available"
    assert read_at(backing_file(volume), 7 * MiB, len(DATA)) == DATA
    wait_until(
        lambda: not Volume.objects.filter(migration_status=f"target:{volume.id}").exists(),
        60,
        "the destination to be removed",
    )
    assert UserMessage.objects.get(resource_uuid=volume.id).event_id == "VOLUME_VOLUME_MIGRATE_001"
    assert quota.check(str(world.project.pk)) == []


def test_a_destination_worker_dying_mid_completion_never_leaves_the_volume_migrating(world, cloud):
    tag = unique_tag()
    host = f"movenode-{tag}"
    backend = add_backend(host, "lvm-move", tag)
    name = start_agent(cloud, host, ["lvm-move"])
    try:
        volume = untyped_volume(world)
        source = volume.host
        fault = Fault.objects.create(backend=backend, operation="migrate", crash=True)
        migrate.migrate(admin_context(world), volume, f"{host}@lvm-move#LVM_lvm-move")
        wait_until(lambda: Fault.objects.filter(id=fault.id, hits=1).exists(), 60, "the crash")
        volume = wait_until(
            lambda: Volume.objects.filter(id=volume.id, migration_status="error").first(),
            timeout=60,
            what="the destination's agent to clean the dead worker's completion up",
        )
        wait_until(
            lambda: not Volume.objects.filter(migration_status=f"target:{volume.id}").exists(),
            60,
            "the destination volume to be deleted",
        )
    finally:
        cloud.stop(name)
        retire_backends(host)

    assert volume.status == "available" and volume.host == source
    assert read_at(backing_file(volume), 7 * MiB, len(DATA)) == DATA
    message = UserMessage.objects.get(resource_uuid=volume.id)
    assert message.event_id == "VOLUME_VOLUME_MIGRATE_001" and "died" in message.user_message
    assert quota.check(str(world.project.pk)) == []


def test_retype_in_place_takes_the_snapshots_along_with_their_quota(world, cloud):
    volume = thick_volume(world)
    snapshot = wait_snapshot(api.create_snapshot(context(world), volume.id).id)
    silver = VolumeType.objects.create(name=f"silver-{uuid.uuid4().hex[:8]}")
    VolumeTypeExtraSpec.objects.create(
        volume_type=silver, key="capabilities:storage_tier", value="silver"
    )
    retype.retype(context(world), volume, silver.name, "never")

    volume = operation_ended(volume.id, "retype")
    snapshot.refresh_from_db()
    assert volume.volume_type_id == silver.id and snapshot.volume_type_id == silver.id
    usage = quota.usage_summary(str(world.project.pk))
    assert usage[f"snapshots_{silver.name}"]["in_use"] == 1
    assert usage[f"gigabytes_{silver.name}"]["in_use"] == 2  # the volume and its snapshot
    assert quota.check(str(world.project.pk)) == []
