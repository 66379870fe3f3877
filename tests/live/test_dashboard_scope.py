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
