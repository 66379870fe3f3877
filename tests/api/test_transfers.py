"""Volume transfers: an offer holds the volume, the auth key takes it (and its snapshots,
and their quota) into another project, and a wrong key or a withdrawn offer moves nothing."""

import pytest

from core.cinder import quota
from core.cinder.models import Snapshot, Transfer, Volume, VolumeType
from core.cinder.quota_models import QuotaUsage
from tests.api.conftest import Api


def usage(project, resource: str) -> int:
    row = QuotaUsage.objects.filter(project=project, resource=resource).first()
    return row.in_use if row else 0


@pytest.fixture
def volume(world) -> Volume:
    """An available 2 GiB volume with an available snapshot, its quota counted."""
    vtype = VolumeType.default()
    quota.commit(quota.reserve(world.project.pk, quota.volume_deltas(2, vtype.name)))
    quota.commit(quota.reserve(world.project.pk, quota.snapshot_deltas(2, vtype.name)))
    made = Volume.objects.create(
        project=world.project,
        user=world.owner,
        size=2,
        volume_type=vtype,
        status="available",
        host="node1@lvm-thick#lvm-thick",
    )
    Snapshot.objects.create(
        volume=made,
        project=world.project,
        user=world.owner,
        volume_size=2,
        volume_type=vtype,
        status="available",
    )
    return made


@pytest.fixture
def offer(owner_api, volume) -> dict:
    response = owner_api.post("/os-volume-transfer", {"transfer": {"volume_id": str(volume.id)}})
    assert response.status_code == 202
    return response.json()["transfer"]


def test_an_offer_holds_the_volume_and_only_its_project_sees_it(
    owner_api, outsider_api, volume, offer
):
    shown = Api(owner_api.token, version=None).get(f"/os-volume-transfer/{offer['id']}")
    listed = owner_api.get("/os-volume-transfer/detail").json()["transfers"]

    assert Volume.objects.get(id=volume.id).status == "awaiting-transfer"
    assert len(offer["auth_key"]) == 16
    assert set(shown.json()["transfer"]) == {"id", "created_at", "name", "volume_id", "links"}
    assert [t["id"] for t in listed] == [offer["id"]]
    assert outsider_api.get(f"/os-volume-transfer/{offer['id']}").status_code == 404
    assert outsider_api.get("/os-volume-transfer").json() == {"transfers": []}
    assert owner_api.delete(f"/volumes/{volume.id}").status_code == 400
    again = owner_api.post("/os-volume-transfer", {"transfer": {"volume_id": str(volume.id)}})
    assert again.status_code == 400


def test_the_auth_key_moves_volume_snapshots_and_quota(world, outsider_api, volume, offer):
    other = world.outsider.projects.get()
    before = (usage(world.project, "volumes"), usage(world.project, "gigabytes"))

    wrong = outsider_api.post(
        f"/os-volume-transfer/{offer['id']}/accept", {"accept": {"auth_key": "0" * 16}}
    )
    assert wrong.status_code == 400
    assert Volume.objects.get(id=volume.id).project_id == world.project.pk

    accepted = outsider_api.post(
        f"/os-volume-transfer/{offer['id']}/accept", {"accept": {"auth_key": offer["auth_key"]}}
    )

    moved = Volume.objects.get(id=volume.id)
    assert accepted.status_code == 202
    assert accepted.json()["transfer"]["volume_id"] == str(volume.id)
    assert (moved.project_id, moved.user_id, moved.status) == (
        other.pk,
        world.outsider.pk,
        "available",
    )
    assert Snapshot.objects.get(volume=volume).project_id == other.pk
    assert before == (1, 4)  # one volume; 2 GiB of volume and 2 of snapshot
    assert (usage(world.project, "volumes"), usage(world.project, "gigabytes")) == (0, 0)
    assert (usage(other, "volumes"), usage(other, "snapshots"), usage(other, "gigabytes")) == (
        1,
        1,
        4,
    )
    assert quota.check(world.project.pk) == [] and quota.check(other.pk) == []
    assert outsider_api.get(f"/os-volume-transfer/{offer['id']}").status_code == 404


def test_a_withdrawn_offer_gives_the_volume_back(owner_api, outsider_api, volume, offer):
    assert owner_api.delete(f"/os-volume-transfer/{offer['id']}").status_code == 202

    late = outsider_api.post(
        f"/os-volume-transfer/{offer['id']}/accept", {"accept": {"auth_key": offer["auth_key"]}}
    )

    assert Volume.objects.get(id=volume.id).status == "available"
    assert late.status_code == 404
    assert Transfer.objects.get(id=offer["id"]).deleted_at is not None


def test_over_quota_the_recipient_gets_413_and_nothing_moves(world, outsider_api, volume, offer):
    other = world.outsider.projects.get()
    quota.set_limit(other.pk, "gigabytes", 1)

    refused = outsider_api.post(
        f"/os-volume-transfer/{offer['id']}/accept", {"accept": {"auth_key": offer["auth_key"]}}
    )

    assert refused.status_code == 413
    assert Volume.objects.get(id=volume.id).status == "awaiting-transfer"
    assert usage(world.project, "volumes") == 1
    assert quota.check(world.project.pk) == [] and quota.check(other.pk) == []


@pytest.mark.parametrize(
    ("version", "fields"),
    [
        ("3.54", set()),
        ("3.55", {"no_snapshots"}),
        ("3.57", {"no_snapshots", "accepted", "source_project_id", "destination_project_id"}),
    ],
)
def test_transfer_fields_come_with_their_microversion(owner_api, volume, version, fields):
    api = Api(owner_api.token, version=f"volume {version}")
    body = {"transfer": {"volume_id": str(volume.id), "name": "gift"}}
    if version != "3.54":
        body["transfer"]["no_snapshots"] = True

    created = api.post("/volume-transfers", body).json()["transfer"]
    shown = api.get(f"/volume-transfers/{created['id']}").json()["transfer"]

    base = {"id", "created_at", "name", "volume_id", "links"}
    assert set(created) == base | fields | {"auth_key"}
    assert set(shown) == base | fields
    assert created["name"] == "gift"
    if fields:
        assert shown["no_snapshots"] is True
    if "accepted" in fields:
        assert (shown["accepted"], shown["source_project_id"]) == (False, volume.project_id)
