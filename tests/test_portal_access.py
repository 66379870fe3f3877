"""Login, project scoping and the health endpoint."""

import json

import pytest
from django.test import Client

from core.cinder.models import Volume, VolumeType

pytestmark = pytest.mark.django_db


@pytest.fixture
def volume(world):
    vtype, _ = VolumeType.objects.get_or_create(name="__DEFAULT__")
    return Volume.objects.create(
        project=world.project, user=world.owner, size=1, volume_type=vtype, status="available"
    )


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_it_redirects_anonymous_users_to_login(live_db):
    response = Client().get("/volumes/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_member_sees_the_project_volume(world, volume):
    response = client_for(world.member).get(f"/volumes/{volume.id}/")
    assert response.status_code == 200
    assert b'data-volume-status="available"' in response.content


def test_an_outsider_gets_404_for_another_projects_volume(world, volume):
    assert client_for(world.outsider).get(f"/volumes/{volume.id}/").status_code == 404
    assert client_for(world.outsider).get(f"/volumes/{volume.id}/live/").status_code == 404


def test_the_volume_list_shows_only_the_users_project(world, volume):
    mine = client_for(world.member).get("/volumes/")
    theirs = client_for(world.outsider).get("/volumes/")
    assert str(volume.id).encode() in mine.content
    assert str(volume.id).encode() not in theirs.content


def test_healthz_names_every_part_and_needs_no_login(live_db):
    response = Client().get("/healthz")
    assert response.status_code in (200, 503)
    report = json.loads(response.content)
    assert {"database", "redis", "scheduler", "agents"} <= set(report)
    assert report["database"]["ok"] is True
