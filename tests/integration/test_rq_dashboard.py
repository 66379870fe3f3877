"""django-rq's dashboard lists every agent's queue, and the dashboard's failure counts lead to
the failed jobs and their tracebacks (for admins)."""

import re
import uuid

import pytest
from django.test import Client
from rq.registry import FailedJobRegistry

from core.kernel import queues
from core.kernel.models import Service
from portal.dashboard import FAILED_JOBS_SHOWN
from tests.test_operator_console import console  # noqa: F401 (a fixture)
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


def test_django_rq_lists_the_queue_of_every_agent(cloud, console):  # noqa: F811
    page = console.get("/admin/django_rq/dashboard/")

    assert page.status_code == 200
    shown = set(re.findall(r"queues/\d+/details/\">\s*([^<\s]+)\s*<", page.content.decode()))
    hosts = Service.objects.filter(binary="cinder-volume").values_list("host", flat=True)
    assert {"node1@lvm-thick", "node1@lvm-thin", "node2@lvm-gold"} <= set(hosts)
    assert shown == {"scheduler"} | {f"volume.{host}" for host in hosts}


def test_a_failed_job_is_counted_and_links_to_its_traceback(world, cloud, console):  # noqa: F811
    # Casts without their arguments: the scheduler's worker fails each with a TypeError.
    # More of them than the dashboard shows, so the last one is listed only as the newest.
    job_ids = [uuid.uuid4().hex for _ in range(FAILED_JOBS_SHOWN + 1)]
    for job_id in job_ids:
        queues.cast(queues.SCHEDULER_QUEUE, "scheduler.manager.create_volume", job_id=job_id)
        wait_until(lambda: queues.job_status(job_id) == "failed", 30, "the job to fail")  # noqa: B023
    try:
        dashboard = console.get("/", headers={"accept": "text/html"}).content.decode()
        member = Client()
        member.force_login(world.member)
        theirs = member.get("/", headers={"accept": "text/html"}).content.decode()
        row = re.search(r'<tr data-queue="scheduler".*?</tr>', dashboard, re.S).group(0)
        failed_link = re.search(r'<a href="([^"]+)" data-failed-link>', row).group(1)
        job_link = re.search(rf'<a href="([^"]+)" data-failed-job="{job_id}">', row).group(1)

        assert job_id in console.get(failed_link).content.decode()
        traceback = console.get(job_link).content.decode()
        assert "TypeError" in traceback and "missing" in traceback
        assert 'id="rq-dashboard-link"' in dashboard
        assert "data-failed-link" not in theirs and 'id="rq-dashboard-link"' not in theirs
    finally:
        registry = FailedJobRegistry(queues.SCHEDULER_QUEUE, connection=queues.redis_connection())
        for failed in job_ids:
            registry.remove(failed, delete_job=True)
