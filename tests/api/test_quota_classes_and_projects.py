"""Quota classes (the defaults every project starts from), Keystone's projects for the
cloud admin, and user messages that name the request behind them."""

import uuid
from datetime import datetime, timedelta

import pytest
from django.test import Client

from core.cinder import messages
from core.cinder.exceptions import NoValidBackend
from core.cinder.models import Project, Volume, VolumeType
from core.cinder.quota_models import QuotaClass
from tests.api.conftest import Api


@pytest.fixture
def restore_defaults(live_db):
    before = list(QuotaClass.objects.values_list("class_name", "resource", "hard_limit"))
    yield
    QuotaClass.objects.all().delete()
    QuotaClass.objects.bulk_create(
        QuotaClass(class_name=c, resource=r, hard_limit=h) for c, r, h in before
    )


def test_the_default_class_sets_every_new_projects_defaults(admin_api, restore_defaults):
    shown = admin_api.get("/os-quota-class-sets/default").json()["quota_class_set"]
    volumes = shown["volumes"] + 1

    updated = admin_api.put(
        "/os-quota-class-sets/default", {"quota_class_set": {"volumes": volumes}}
    ).json()["quota_class_set"]
    project = Project.objects.create(name=f"p-{uuid.uuid4().hex[:6]}")
    defaults = admin_api.get(f"/os-quota-sets/{project.pk}/defaults").json()["quota_set"]

    assert shown["id"] == "default"
    assert "id" not in updated and updated["volumes"] == volumes
    assert defaults["volumes"] == volumes


def test_quota_class_updates_check_keys_and_rights(admin_api, owner_api, restore_defaults):
    bad = admin_api.put("/os-quota-class-sets/default", {"quota_class_set": {"nope": 1}})
    negative = admin_api.put("/os-quota-class-sets/default", {"quota_class_set": {"volumes": -2}})
    member = owner_api.put("/os-quota-class-sets/default", {"quota_class_set": {"volumes": 1}})

    assert bad.status_code == negative.status_code == 400
    assert "Bad key" in bad.json()["badRequest"]["message"]
    assert member.status_code == 403
    assert owner_api.get("/os-quota-class-sets/default").status_code == 403


def identity(api: Api) -> Api:
    return Api(api.token, version=None, prefix="/identity/v3")


def test_the_cloud_admin_creates_finds_and_deletes_a_project(admin_api):
    keystone = identity(admin_api)
    name = f"made-{uuid.uuid4().hex[:6]}"

    domain = keystone.get("/domains?name=Default").json()["domains"]
    created = keystone.post("/projects", {"project": {"name": name, "domain_id": "default"}})
    project_id = created.json()["project"]["id"]
    found = keystone.get(f"/projects?name={name}").json()["projects"]
    twice = keystone.post("/projects", {"project": {"name": name}})
    deleted = keystone.delete(f"/projects/{project_id}")

    assert domain[0]["id"] == "default"
    assert created.status_code == 201
    assert [p["id"] for p in found] == [project_id]
    assert twice.status_code == 409
    assert deleted.status_code == 204
    assert not Project.objects.filter(pk=project_id).exists()
    assert keystone.get(f"/projects/{project_id}").status_code == 404


def test_projects_are_the_cloud_admins_alone_and_keep_what_they_own(owner_api, admin_api, world):
    Volume.objects.create(
        project=world.project, user=world.owner, size=1, volume_type=VolumeType.default()
    )
    member = identity(owner_api).post("/projects", {"project": {"name": "mine"}})
    anonymous = Client().get("/identity/v3/projects")
    in_use = identity(admin_api).delete(f"/projects/{world.project.pk}")

    assert member.status_code == 403
    assert member.json()["error"]["code"] == 403
    assert anonymous.status_code == 401
    assert in_use.status_code == 409
    assert Project.objects.filter(pk=world.project.pk).exists()


def test_a_user_message_names_its_request_and_how_long_it_is_kept(owner_api, world):
    volume = Volume.objects.create(
        project=world.project, user=world.owner, size=1, volume_type=VolumeType.default()
    )
    context = {"project_id": world.project.pk, "request_id": "req-1234"}
    messages.schedule_failed(context, str(volume.id), NoValidBackend(reason="none"), {})

    shown = owner_api.get(f"/messages?resource_uuid={volume.id}").json()["messages"][0]

    created = datetime.fromisoformat(shown["created_at"])
    assert shown["request_id"] == "req-1234"
    assert datetime.fromisoformat(shown["guaranteed_until"]) - created == timedelta(days=30)
