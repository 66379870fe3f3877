"""A project's reader: Keystone's implied roles, and Cinder's default policies (readers
read everything their project has, and change nothing, in the API and on the web)."""

import uuid

import pytest
from django.test import Client

from core.cinder import tokens
from core.cinder.models import Membership, Volume
from tests.api.conftest import Api, footprint, token_for
from tests.conftest import make_user


@pytest.fixture
def reader(world):
    user = make_user(f"reader-{uuid.uuid4().hex[:6]}")
    Membership.objects.create(user=user, project=world.project, role="reader")
    return user


@pytest.fixture
def volume_id(owner_api) -> str:
    response = owner_api.post("/volumes", {"volume": {"size": 1, "name": "shared"}})
    assert response.status_code == 202
    return response.json()["volume"]["id"]


def test_roles_imply_one_another_as_keystones_do(world, reader):
    assert tokens.roles_for(reader, world.project) == ["reader"]
    assert tokens.roles_for(world.member, world.project) == ["member", "reader"]
    assert tokens.roles_for(reader, world.outsider.projects.get()) == []


def test_a_reader_sees_the_projects_volumes(world, reader, volume_id):
    api = Api(token_for(reader, world.project))

    shown = api.get(f"/volumes/{volume_id}")
    listed = api.get("/volumes/detail").json()["volumes"]

    assert shown.status_code == 200
    assert shown.json()["volume"]["name"] == "shared"
    assert [v["id"] for v in listed] == [volume_id]


def test_a_reader_changes_nothing_through_the_api(world, reader, volume_id):
    api = Api(token_for(reader, world.project))
    before = footprint(world.project)

    created = api.post("/volumes", {"volume": {"size": 1}})
    renamed = api.put(f"/volumes/{volume_id}", {"volume": {"name": "mine"}})
    deleted = api.delete(f"/volumes/{volume_id}")

    for response in (created, renamed, deleted):
        assert response.status_code == 403
        assert "Policy doesn't allow" in response.json()["forbidden"]["message"]
    assert footprint(world.project) == before
    assert Volume.objects.get(id=volume_id).display_name == "shared"


def test_a_reader_browses_but_cannot_create_or_delete_on_the_web(world, reader, volume_id):
    client = Client()
    client.force_login(reader)
    before = footprint(world.project)

    listing = client.get("/volumes/")
    create = client.post("/volumes/create/", {"size": 1, "volume_type": "__DEFAULT__"})
    delete = client.post(f"/volumes/{volume_id}/delete/")

    assert listing.status_code == 200 and b"shared" in listing.content
    assert create.status_code == delete.status_code == 403
    assert footprint(world.project) == before
    assert Volume.objects.get(id=volume_id).status != "deleting"
