"""The sweep sends a cast again only when no worker will do it. Past saturation a job waits
in its queue longer than the sweep's grace period; the instant between a worker taking it
and claiming its work is then no reason to send it again."""

import uuid
from datetime import timedelta

from django.utils import timezone
from rq.job import Job, JobStatus

from core.cinder import cleanable
from core.cinder.models import Volume, VolumeType, Worker
from core.kernel.queues import redis_connection


def waiting_delete(world) -> Worker:
    """A delete cast long ago (older than the grace period), not yet claimed."""
    volume = Volume.objects.create(
        project=world.project,
        user=world.owner,
        size=1,
        volume_type=VolumeType.default(),
        host="sweep-host@lvm#pool",
        status="deleting",
    )
    row = Worker.objects.create(
        resource_type="VOLUME",
        resource_id=volume.id,
        status="deleting",
        service="sweep-host@lvm",
        queue="volume.sweep-host@lvm",
        func="agent.manager.delete_volume",
        kwargs={"volume_id": str(volume.id)},
        job_id=uuid.uuid4().hex,
    )
    long_ago = timezone.now() - timedelta(seconds=10 * cleanable.grace_seconds())
    Worker.objects.filter(pk=row.pk).update(updated_at=long_ago)
    row.refresh_from_db()
    return row


def taken(row: Worker, when) -> None:
    """The row's job as RQ keeps it once a worker took it at ``when``."""
    job = Job.create("agent.manager.delete_volume", id=row.job_id, connection=redis_connection())
    job.started_at = when
    job.save()
    job.set_status(JobStatus.STARTED)


def test_a_job_a_worker_has_just_taken_is_left_to_claim_its_work(world):
    row = waiting_delete(world)
    taken(row, timezone.now())

    assert cleanable.settle(row, down=set()) is None

    assert Worker.objects.get(pk=row.pk).job_id == row.job_id  # not sent again


def test_a_job_taken_long_ago_and_never_claimed_is_sent_again(world):
    row = waiting_delete(world)
    taken(row, timezone.now() - timedelta(seconds=10 * cleanable.grace_seconds()))

    assert cleanable.settle(row, down=set()) == "resent"

    assert Worker.objects.get(pk=row.pk).job_id != row.job_id
