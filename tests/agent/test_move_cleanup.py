"""A retype or migration whose job died never leaves the volume stuck: the cleanup ends it
``error`` (the volume back to its status), rolls the reservations back and removes the
migration's destination; a destination left behind by a migration that ended is removed
by the sweep."""

import socket
import uuid
from datetime import timedelta

from django.utils import timezone

from agent.service import Agent
from core.cinder import cleanable, quota
from core.cinder.models import UserMessage, Volume, VolumeType, Worker

DEAD = f"{socket.gethostname()}:999999@0"  # a process of this machine that no longer runs


def volume(world, host: str, **fields) -> Volume:
    return Volume.objects.create(
        project=world.project,
        user=world.owner,
        size=2,
        volume_type=VolumeType.default(),
        host=f"{host}#pool",
        **fields,
    )


def lost_work(resource, host: str, status: str, **kwargs) -> Worker:
    return Worker.objects.create(
        resource_type="VOLUME",
        resource_id=resource.id,
        status=status,
        service=host,
        queue=f"volume.{host}",
        func="agent.manager.retype" if status == "retyping" else "agent.manager.migrate_volume",
        kwargs={"host": f"{host}#pool", "volume_id": str(resource.id), **kwargs},
        job_id=uuid.uuid4().hex,
        owner=DEAD,
    )


def test_a_lost_retype_puts_the_volume_back_and_gives_both_reservations_back(world):
    host = f"retype-{uuid.uuid4().hex[:8]}@lvm"
    retyping = volume(world, host, status="retyping", previous_status="in-use")
    project = str(world.project.pk)
    new = quota.reserve(project, {"volumes_thin": 1, "gigabytes_thin": 2})
    old = quota.reserve(project, {"volumes___DEFAULT__": -1, "gigabytes___DEFAULT__": -2})
    lost_work(retyping, host, "retyping", reservations=new, old_reservations=old)

    assert Agent.cleanup(host) == 1

    retyping.refresh_from_db()
    assert retyping.status == "in-use" and retyping.migration_status == ""
    assert quota.usage_summary(project)["gigabytes_thin"]["reserved"] == 0
    message = UserMessage.objects.get(resource_uuid=retyping.id)
    assert message.event_id == "VOLUME_VOLUME_RETYPE_001" and "died" in message.user_message
    assert not Worker.objects.filter(resource_id=retyping.id).exists()


def test_a_lost_migration_ends_error_and_its_destination_is_deleted_where_it_is(world):
    host, target_host = (f"{name}-{uuid.uuid4().hex[:8]}@lvm" for name in ("src", "dst"))
    moving = volume(
        world, host, status="maintenance", previous_status="available", migration_status="migrating"
    )
    dest = volume(
        world,
        target_host,
        status="available",
        migration_status=f"target:{moving.id}",
        use_quota=False,
    )
    lost_work(moving, host, "migrating")

    assert Agent.cleanup(host) == 1

    moving.refresh_from_db()
    assert moving.migration_status == "error" and moving.status == "available"
    dest.refresh_from_db()
    assert dest.status == "deleting"
    delete = Worker.objects.get(resource_id=dest.id)
    assert delete.func == "agent.manager.delete_volume" and delete.service == target_host
    assert delete.kwargs["context"]["migration_of"] == str(moving.id)
    message = UserMessage.objects.get(resource_uuid=moving.id)
    assert message.event_id == "VOLUME_VOLUME_MIGRATE_001"


def test_a_migration_that_finished_before_its_job_died_is_left_alone(world):
    host = f"done-{uuid.uuid4().hex[:8]}@lvm"
    done = volume(world, host, status="available", migration_status="success")
    lost_work(done, host, "migrating")

    Agent.cleanup(host)

    done.refresh_from_db()
    assert done.status == "available" and done.migration_status == "success"
    assert not UserMessage.objects.filter(resource_uuid=done.id).exists()


def test_the_sweep_removes_a_destination_its_migration_no_longer_wants(world):
    host = f"orphan-{uuid.uuid4().hex[:8]}@lvm"
    failed = volume(world, host, status="available", migration_status="error")
    still = volume(world, host, status="available", migration_status="migrating")
    orphan = volume(
        world, host, status="available", migration_status=f"target:{failed.id}", use_quota=False
    )
    wanted = volume(
        world, host, status="available", migration_status=f"target:{still.id}", use_quota=False
    )
    creating = volume(
        world, host, status="creating", migration_status=f"target:{failed.id}", use_quota=False
    )

    done = cleanable.abandoned_targets(timezone.now() + timedelta(seconds=1))

    assert done == {"abandoned": 1}
    statuses = dict(Volume.objects.filter(host=f"{host}#pool").values_list("id", "status"))
    assert statuses[orphan.id] == "deleting"
    assert statuses[wanted.id] == "available"  # its migration is still under way
    assert statuses[creating.id] == "creating"  # left to its create; swept once that ends
