"""init_host's cleanup: creates cannot be resumed (error), deletes are (cast again), once."""

import threading
import uuid

from agent.service import Agent
from core.cinder.models import Snapshot, Volume, VolumeType
from core.kernel.queues import get_queue


def row(world, host: str, status: str) -> Volume:
    return Volume.objects.create(
        project=world.project,
        user=world.owner,
        size=1,
        status=status,
        volume_type=VolumeType.default(),
        host=f"{host}#pool",
    )


def test_in_flight_creates_become_error_and_deletes_are_resumed(world):
    host = f"cleanup-{uuid.uuid4().hex[:8]}@lvm"
    creating = row(world, host, "creating")
    downloading = row(world, host, "downloading")
    deleting = row(world, host, "deleting")
    available = row(world, host, "available")
    snapshot = Snapshot.objects.create(
        volume=available,
        project=world.project,
        user=world.owner,
        status="creating",
        volume_size=1,
        volume_type=available.volume_type,
    )
    elsewhere = row(world, f"other-{uuid.uuid4().hex[:8]}@lvm", "creating")

    assert Agent.cleanup(host) == 4

    statuses = dict(Volume.objects.values_list("id", "status"))
    assert statuses[creating.id] == statuses[downloading.id] == "error"
    assert statuses[deleting.id] == "deleting"  # resumed, not given up
    assert statuses[available.id] == "available"
    assert statuses[elsewhere.id] == "creating"  # another host's work is not ours
    snapshot.refresh_from_db()
    assert snapshot.status == "error"
    jobs = get_queue(f"volume.{host}").jobs
    assert [(j.func_name, j.kwargs["volume_id"]) for j in jobs] == [
        ("agent.manager.delete_volume", str(deleting.id))
    ]


def test_two_cleaners_starting_together_resume_a_delete_once(world):
    from django.utils import timezone

    host = f"cleanup-{uuid.uuid4().hex[:8]}@lvm"
    row(world, host, "deleting")
    barrier = threading.Barrier(2)
    started = timezone.now()

    def clean():
        from django.db import connection

        barrier.wait()
        try:
            Agent.cleanup(host, started)
        finally:
            connection.close()

    threads = [threading.Thread(target=clean) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert get_queue(f"volume.{host}").count == 1
