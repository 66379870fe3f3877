"""init_host's cleanup, as Cinder's: the work a dead process of ours left half-done.

A create cannot be resumed (``error``, with a user message); a delete is (cast again);
work still queued, or held by a process that still runs, is left to its job.
"""

import socket
import threading
import uuid

from agent.service import Agent
from core.cinder import cleanable
from core.cinder.models import Snapshot, UserMessage, Volume, VolumeType, Worker
from core.kernel.queues import get_queue

DEAD = f"{socket.gethostname()}:999999@0"  # a process of this machine that no longer runs


def volume(world, host: str, status: str) -> Volume:
    return Volume.objects.create(
        project=world.project,
        user=world.owner,
        size=1,
        status=status,
        volume_type=VolumeType.default(),
        host=f"{host}#pool",
    )


def work(resource, host: str, status: str, owner: str = DEAD, kind: str = "VOLUME") -> Worker:
    func = {"creating": "create", "deleting": "delete"}[status]
    return Worker.objects.create(
        resource_type=kind,
        resource_id=resource.id,
        status=status,
        service=host,
        queue=f"volume.{host}",
        func=f"agent.manager.{func}_{kind.lower()}",
        kwargs={"host": f"{host}#pool", f"{kind.lower()}_id": str(resource.id)},
        job_id=uuid.uuid4().hex,
        owner=owner,
    )


def test_work_of_a_dead_process_is_cleaned_and_the_rest_left_alone(world):
    host = f"cleanup-{uuid.uuid4().hex[:8]}@lvm"
    creating, downloading = volume(world, host, "creating"), volume(world, host, "downloading")
    deleting, queued = volume(world, host, "deleting"), volume(world, host, "creating")
    running = volume(world, host, "creating")
    snapshot = Snapshot.objects.create(
        volume=volume(world, host, "available"),
        project=world.project,
        user=world.owner,
        status="creating",
        volume_size=1,
        volume_type=VolumeType.default(),
    )
    elsewhere = volume(world, f"other-{uuid.uuid4().hex[:8]}@lvm", "creating")
    for resource, status in ((creating, "creating"), (downloading, "creating")):
        work(resource, host, status)
    resumed = work(deleting, host, "deleting")
    work(queued, host, "creating", owner="")
    work(running, host, "creating", owner=cleanable.owner_name())
    work(snapshot, host, "creating", kind="SNAPSHOT")
    work(elsewhere, elsewhere.host.partition("#")[0], "creating")

    assert Agent.cleanup(host) == 4

    statuses = dict(Volume.objects.values_list("id", "status"))
    assert statuses[creating.id] == statuses[downloading.id] == "error"
    assert statuses[deleting.id] == "deleting"  # resumed, not given up
    assert statuses[queued.id] == statuses[running.id] == "creating"  # their jobs go on
    assert statuses[elsewhere.id] == "creating"  # another backend's work is not ours
    snapshot.refresh_from_db()
    assert snapshot.status == "error"
    message = UserMessage.objects.get(resource_uuid=creating.id)
    assert message.event_id == "VOLUME_VOLUME_008_001"
    assert "create volume from backend storage" in message.user_message
    assert set(Worker.objects.filter(service=host).values_list("resource_id", flat=True)) == {
        deleting.id,
        queued.id,
        running.id,
    }
    again = Worker.objects.get(resource_id=deleting.id)
    assert again.owner == "" and again.job_id != resumed.job_id
    jobs = get_queue(f"volume.{host}").jobs
    assert [(j.id, j.func_name, j.kwargs["volume_id"]) for j in jobs] == [
        (again.job_id, "agent.manager.delete_volume", str(deleting.id))
    ]


def test_two_cleaners_at_once_resume_a_delete_once(world):
    host = f"cleanup-{uuid.uuid4().hex[:8]}@lvm"
    work(volume(world, host, "deleting"), host, "deleting")
    barrier = threading.Barrier(2)

    def clean():
        from django.db import connection

        barrier.wait()
        try:
            Agent.cleanup(host)
        finally:
            connection.close()

    threads = [threading.Thread(target=clean) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert get_queue(f"volume.{host}").count == 1
