"""Bodies as Cinder's views build them: each field from the microversion that adds it,
for the callers its policy names, and only in the answers that carry it."""

import uuid

import pytest

from core.cinder.models import Membership, Snapshot, Volume, VolumeType
from core.cinder.quota_models import QuotaLimit
from tests.api.conftest import Api, token_for
from tests.conftest import make_user

SNAPSHOT_BASE = {
    "id",
    "created_at",
    "updated_at",
    "name",
    "description",
    "volume_id",
    "status",
    "size",
    "metadata",
}
EXTENDED = {
    "os-extended-snapshot-attributes:project_id",
    "os-extended-snapshot-attributes:progress",
}


@pytest.fixture
def snapshot(world) -> Snapshot:
    vtype = VolumeType.default()
    volume = Volume.objects.create(
        project=world.project,
        user=world.owner,
        size=1,
        volume_type=vtype,
        status="available",
        host="node1@lvm-thick#lvm-thick",
    )
    return Snapshot.objects.create(
        volume=volume,
        project=world.project,
        user=world.owner,
        display_name="snap",
        volume_size=1,
        volume_type=vtype,
        status="available",
    )


def at(api: Api, version: str) -> Api:
    return Api(api.token, version=f"volume {version}")


@pytest.mark.parametrize(
    ("version", "added"),
    [
        ("3.0", set()),
        ("3.14", {"group_snapshot_id"}),
        ("3.41", {"group_snapshot_id", "user_id"}),
        ("3.65", {"group_snapshot_id", "user_id", "consumes_quota"}),
    ],
)
def test_snapshot_fields_come_with_their_microversion(owner_api, snapshot, version, added):
    api = at(owner_api, version)

    shown = api.get(f"/snapshots/{snapshot.id}").json()["snapshot"]
    detail = api.get("/snapshots/detail").json()["snapshots"][0]
    summary = api.get("/snapshots").json()["snapshots"][0]
    renamed = api.put(f"/snapshots/{snapshot.id}", {"snapshot": {"name": "again"}})

    assert set(shown) == set(detail) == SNAPSHOT_BASE | added | EXTENDED
    assert set(summary) == SNAPSHOT_BASE
    assert renamed.status_code == 200
    assert set(renamed.json()["snapshot"]) == SNAPSHOT_BASE | added  # no extension fields
    assert renamed.json()["snapshot"]["name"] == "again"
    assert shown["os-extended-snapshot-attributes:project_id"] == snapshot.project_id


def test_a_snapshot_of_no_volume_is_a_volume_not_found(owner_api, world):
    for volume_id in (None, str(uuid.uuid4())):
        response = owner_api.post("/snapshots", {"snapshot": {"volume_id": volume_id}})
        assert response.status_code == 404
        assert "could not be found" in response.json()["itemNotFound"]["message"]
    assert not Snapshot.objects.filter(project=world.project).exists()


def test_from_3_66_force_false_is_refused_and_before_it_in_use_needs_force(owner_api, snapshot):
    Volume.objects.filter(id=snapshot.volume_id).update(status="in-use")
    QuotaLimit.objects.create(project=snapshot.project, resource="snapshots", hard_limit=-1)
    body = {"snapshot": {"volume_id": str(snapshot.volume_id), "force": False}}

    refused = owner_api.post("/snapshots", body)
    old = at(owner_api, "3.0").post("/snapshots", body)
    plain = owner_api.post("/snapshots", {"snapshot": {"volume_id": str(snapshot.volume_id)}})

    assert "'force' flag is invalid" in refused.json()["badRequest"]["message"]
    assert (
        old.status_code == 400 and "status must be available" in old.json()["badRequest"]["message"]
    )
    assert plain.status_code == 202


def test_type_answers_differ_as_cinders_views_do(admin_api, owner_api, world):
    name = f"t-{uuid.uuid4().hex[:6]}"
    created = admin_api.post("/types", {"volume_type": {"name": name}}).json()["volume_type"]
    type_id = created["id"]
    reader = make_user(f"reader-{uuid.uuid4().hex[:6]}")
    Membership.objects.create(user=reader, project=world.project, role="reader")

    as_admin = admin_api.get(f"/types/{type_id}").json()["volume_type"]
    as_member = owner_api.get(f"/types/{type_id}").json()["volume_type"]
    as_reader = Api(token_for(reader, world.project)).get(f"/types/{type_id}").json()
    updated = admin_api.put(f"/types/{type_id}", {"volume_type": {"description": "d"}})

    base = {"id", "name", "is_public", "description", "extra_specs"}
    access = "os-volume-type-access:is_public"
    assert set(created) == base | {access}
    assert set(as_admin) == base | {access, "qos_specs_id"}
    assert set(as_member) == base | {access}
    assert set(as_reader["volume_type"]) == base
    assert updated.status_code == 200
    assert set(updated.json()["volume_type"]) == base
    assert updated.json()["volume_type"]["description"] == "d"


def test_a_type_update_renames_it_with_its_quota_and_refuses_a_taken_name(admin_api, world):
    name = f"t-{uuid.uuid4().hex[:6]}"
    type_id = admin_api.post("/types", {"volume_type": {"name": name}}).json()["volume_type"]["id"]
    QuotaLimit.objects.create(project=world.project, resource=f"volumes_{name}", hard_limit=3)

    renamed = admin_api.put(
        f"/types/{type_id}", {"volume_type": {"name": f"{name}-new", "is_public": False}}
    )
    taken = admin_api.put(f"/types/{type_id}", {"volume_type": {"name": "__DEFAULT__"}})
    empty = admin_api.put(f"/types/{type_id}", {"volume_type": {}})
    by_member = Api(token_for(world.owner, world.project)).put(
        f"/types/{type_id}", {"volume_type": {"description": "x"}}
    )

    assert renamed.json()["volume_type"]["name"] == f"{name}-new"
    assert renamed.json()["volume_type"]["is_public"] is False
    assert (
        QuotaLimit.objects.get(project=world.project, resource=f"volumes_{name}-new").hard_limit
        == 3
    )
    assert taken.status_code == 409
    assert empty.status_code == 400
    assert by_member.status_code == 403
    assert VolumeType.objects.get(id=type_id).name == f"{name}-new"
