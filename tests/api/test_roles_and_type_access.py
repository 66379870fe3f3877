"""One meaning of admin, and private volume types only for the projects given access."""

import uuid

import pytest
from django.test import Client

from core.cinder.models import Membership, Project, VolumeType
from tests.api.conftest import Api, footprint, token_for
from tests.conftest import make_user


@pytest.fixture
def private_type(live_db) -> VolumeType:
    return VolumeType.objects.create(name=f"private-{uuid.uuid4().hex[:6]}", is_public=False)


def create_body(type_name: str) -> dict:
    return {"volume": {"size": 1, "volume_type": type_name}}


# -- private types -------------------------------------------------------------------------


def test_a_private_type_is_invisible_and_unusable_without_access(world, owner_api, private_type):
    before = footprint(world.project)

    listed = owner_api.get("/types").json()["volume_types"]
    shown = owner_api.get(f"/types/{private_type.id}")
    created = owner_api.post("/volumes", create_body(private_type.name))
    by_id = owner_api.post("/volumes", create_body(str(private_type.id)))

    assert private_type.name not in {t["name"] for t in listed}
    assert shown.status_code == 404
    assert created.status_code == by_id.status_code == 404
    assert "itemNotFound" in created.json()
    assert footprint(world.project) == before  # nothing half-written


def test_an_admin_gives_a_project_access_and_takes_it_back(
    world, owner_api, admin_api, private_type
):
    project = world.project.pk
    add = {"addProjectAccess": {"project": project}}

    assert admin_api.post(f"/types/{private_type.id}/action", add).status_code == 202
    again = admin_api.post(f"/types/{private_type.id}/action", add)
    access = admin_api.get(f"/types/{private_type.id}/os-volume-type-access").json()

    assert again.status_code == 409
    assert access == {
        "volume_type_access": [{"volume_type_id": str(private_type.id), "project_id": project}]
    }
    assert private_type.name in {t["name"] for t in owner_api.get("/types").json()["volume_types"]}
    assert owner_api.get(f"/types/{private_type.id}").status_code == 200
    assert owner_api.post("/volumes", create_body(private_type.name)).status_code == 202

    remove = {"removeProjectAccess": {"project": project}}
    assert admin_api.post(f"/types/{private_type.id}/action", remove).status_code == 202
    assert owner_api.get(f"/types/{private_type.id}").status_code == 404
    assert owner_api.post("/volumes", create_body(private_type.name)).status_code == 404
    assert admin_api.post(f"/types/{private_type.id}/action", remove).status_code == 404


def test_only_admins_change_access_and_never_on_a_public_type(owner_api, admin_api, private_type):
    default = VolumeType.default()
    add = {"addProjectAccess": {"project": Project.objects.get(name="demo").pk}}

    refused = owner_api.post(f"/types/{private_type.id}/action", add)
    public = admin_api.post(f"/types/{default.id}/action", add)
    listing = admin_api.get(f"/types/{default.id}/os-volume-type-access")

    assert refused.status_code == 403
    assert public.status_code == 400
    assert "not applicable to public volume type" in public.json()["badRequest"]["message"]
    assert listing.status_code == 404


def test_the_create_form_offers_a_private_type_only_to_projects_with_access(world, private_type):
    client = Client()
    client.force_login(world.owner)

    before = client.get("/volumes/create/").content.decode()
    private_type.access.create(project=world.project)
    after = client.get("/volumes/create/").content.decode()

    assert f'value="{private_type.name}"' not in before
    assert f'value="{private_type.name}"' in after


# -- one meaning of admin -----------------------------------------------------------------


@pytest.fixture
def project_admin(world):
    """A user with the admin role on their own project only: no cloud admin."""
    user = make_user(f"padmin-{uuid.uuid4().hex[:6]}")
    Membership.objects.create(user=user, project=world.project, role="admin")
    return user


def test_an_admin_role_on_one_project_grants_nothing_outside_it(world, project_admin):
    other = world.outsider.projects.get()
    api = Api(token_for(project_admin, world.project))

    assert api.get(f"/os-quota-sets/{other.pk}").status_code == 403
    assert api.put(f"/os-quota-sets/{other.pk}", {"quota_set": {"volumes": 1}}).status_code == 403
    assert api.get("/scheduler-stats/get_pools").status_code == 403
    assert api.post("/types", {"volume_type": {"name": "nope"}}).status_code == 403
    listing = api.get("/volumes/detail?all_tenants=1").json()["volumes"]
    assert {v["os-vol-tenant-attr:tenant_id"] for v in listing} <= {world.project.pk}


def test_staff_without_superuser_is_no_admin_on_the_web(world):
    staff = make_user(f"staff-{uuid.uuid4().hex[:6]}", world.project, is_staff=True)
    client = Client()
    client.force_login(staff)

    assert client.get("/admin/").status_code == 302  # to the admin's login: not for them
    assert client.get("/backends/").status_code == 403
    assert b'href="/admin/"' not in client.get("/", headers={"accept": "text/html"}).content


def test_the_cloud_admin_is_admin_everywhere(live_db):
    admin = make_user(f"root-{uuid.uuid4().hex[:6]}", is_superuser=True)
    client = Client()
    client.force_login(admin)
    api = Api(token_for(admin, Project.objects.get(name="demo")))

    assert client.get("/admin/").status_code == 200
    assert client.get("/backends/").status_code == 200
    assert api.get("/scheduler-stats/get_pools").status_code == 200
