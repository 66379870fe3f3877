"""A reservation whose flow died is rolled back by the scheduler's periodic expiry."""

import os
import signal
import sys

import pytest

from core.cinder.models import Reservation
from core.kernel.models import Service
from tests.quota.helpers import usage
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

# The API flow's QuotaReserveTask in a process of its own, which then hangs
# before QuotaCommitTask: the state an API process leaves when it is killed.
RESERVE_THEN_HANG = """
import signal, sys
import django
django.setup()
from volumes.flows import QuotaReserveTask
result = QuotaReserveTask().execute(
    {"project_id": sys.argv[1]}, size=3, volume_type_name="__DEFAULT__",
    optional_args={"is_quota_committed": False},
)
print("reserved", result, flush=True)
signal.pause()
"""
SHORT = {"RESERVATION_EXPIRE": "1", "RESERVATION_CLEAN_INTERVAL": "1"}


def test_a_reservation_left_by_a_killed_process_is_expired_by_the_scheduler(world, processes):
    project = world.project
    child = processes.start(
        f"reserver-{project.pk}", [sys.executable, "-c", RESERVE_THEN_HANG, project.pk], **SHORT
    )
    wait_until(
        lambda: usage(project, "gigabytes") == (0, 3), timeout=60, what="the child to reserve"
    )
    assert Reservation.objects.filter(project=project).count() == 4  # global + __DEFAULT__

    os.killpg(child.pid, signal.SIGKILL)  # dies before commit: nothing will roll it back
    child.wait(timeout=30)
    processes.procs.pop(f"reserver-{project.pk}", None)
    assert usage(project, "gigabytes") == (0, 3)

    host = f"quota-expiry-{project.pk[:8]}"
    processes.manage(f"scheduler-{host}", "scheduler", "--host", host, **SHORT)
    try:
        wait_until(
            lambda: usage(project, "gigabytes") == (0, 0),
            timeout=60,
            what="the periodic expiry to roll the reservation back",
        )
    finally:
        processes.stop(f"scheduler-{host}")
        Service.objects.filter(host=host).delete()  # leave no stale scheduler behind

    assert usage(project, "volumes") == (0, 0)
    assert usage(project, "gigabytes___DEFAULT__") == (0, 0)
    assert not Reservation.objects.filter(project=project).exists()
