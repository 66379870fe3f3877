"""Who sees what on the dashboard: a project's members its volumes, admins every project."""

import pytest
from django.test import Client

from core.cinder.models import Volume, VolumeType
from portal.dashboard import dashboard_context
from tests.conftest import make_user

pytestmark = pytest.mark.integration


def add_volume(project, user, name: str) -> Volume:
    return Volume.objects.create(
        project=project,
        user=user,
        display_name=name,
        size=1,
        status="available",
        volume_type=VolumeType.default(),
    )


@pytest.fixture
def two_projects(world):
    mine = add_volume(world.project, world.owner, "mine")
    theirs = add_volume(world.outsider.projects.get(), world.outsider, "theirs")
    return mine, theirs


def test_a_member_sees_only_their_projects_volumes(world, two_projects):
    mine, theirs = two_projects
    client = Client()
    client.force_login(world.member)

    html = client.get("/", headers={"accept": "text/html"}).content.decode()

    assert f"volume-row-{mine.id}" in html
    assert f"volume-row-{theirs.id}" not in html


def test_an_admin_sees_every_projects_volumes(world, two_projects):
    mine, theirs = two_projects
    admin = make_user(f"admin-{world.project.name}", is_superuser=True, is_staff=True)

    context = dashboard_context(admin)

    shown = {v.id for v in context["volumes"]}
    assert {mine.id, theirs.id} <= shown  # the newest of every project
    assert context["all_projects"]


def test_failed_jobs_with_their_errors_are_shown_to_admins_only(world):
    from rq import Queue
    from rq.job import Job
    from rq.registry import FailedJobRegistry
    from rq.results import Result

    from core.kernel.queues import SCHEDULER_QUEUE, redis_connection

    queue = Queue(SCHEDULER_QUEUE, connection=redis_connection())
    job = Job.create("os.getcwd", connection=queue.connection, origin=queue.name)
    job.save()
    secret = f"OtherProjectError: volume of p-{world.project.pk} at /var/lib/secret"
    FailedJobRegistry(queue=queue).add(job)
    Result.create_failure(job, ttl=600, exc_string=f"Traceback\n{secret}")  # as a worker does
    admin = make_user(f"admin-{world.project.name}", is_superuser=True, is_staff=True)
    try:
        pages = {}
        for who, user in [("member", world.member), ("admin", admin)]:
            client = Client()
            client.force_login(user)
            pages[who] = client.get("/", headers={"accept": "text/html"}).content.decode()
    finally:
        FailedJobRegistry(queue=queue).remove(job, delete_job=True)

    assert secret not in pages["member"]
    assert secret in pages["admin"]
