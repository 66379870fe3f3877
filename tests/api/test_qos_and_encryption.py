"""QoS specs and volume type encryption: admins manage them as Cinder's extensions do;
members are refused; what is in use stays."""

import uuid

import pytest

from core.cinder.models import Volume, VolumeType


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def vtype(admin_api) -> VolumeType:
    created = admin_api.post("/types", {"volume_type": {"name": unique("t")}})
    return VolumeType.objects.get(id=created.json()["volume_type"]["id"])


def test_qos_specs_are_created_listed_and_changed_key_by_key(admin_api):
    name = unique("qos")
    created = admin_api.post(
        "/qos-specs", {"qos_specs": {"name": f" {name} ", "consumer": "front-end", "iops": "10"}}
    )
    specs = created.json()["qos_specs"]
    specs_id = specs["id"]
    listed = admin_api.get("/qos-specs").json()["qos_specs"]

    set_keys = admin_api.put(f"/qos-specs/{specs_id}", {"qos_specs": {"bytes": "5"}})
    unset = admin_api.put(f"/qos-specs/{specs_id}/delete_keys", {"keys": ["iops"]})
    missing = admin_api.put(f"/qos-specs/{specs_id}/delete_keys", {"keys": ["nope"]})
    shown = admin_api.get(f"/qos-specs/{specs_id}").json()["qos_specs"]

    assert created.status_code == 200
    assert specs == {"id": specs_id, "name": name, "consumer": "front-end", "specs": {"iops": "10"}}
    assert created.json()["links"][0]["href"].endswith(f"/qos-specs/{specs_id}")
    assert specs in listed
    assert set_keys.json() == {"qos_specs": {"bytes": "5"}}
    assert unset.status_code == 202
    assert missing.status_code == 404
    assert shown["specs"] == {"bytes": "5"}


def test_a_qos_name_is_unique_and_a_consumer_must_be_known(admin_api):
    name = unique("qos")
    assert admin_api.post("/qos-specs", {"qos_specs": {"name": name}}).status_code == 200
    again = admin_api.post("/qos-specs", {"qos_specs": {"name": name}})
    odd = admin_api.post("/qos-specs", {"qos_specs": {"name": unique("q"), "consumer": "x"}})
    assert again.status_code == 409
    assert odd.status_code == 400 and "Valid consumer" in odd.json()["badRequest"]["message"]


def test_qos_specs_follow_their_types_and_stay_while_used(admin_api, vtype):
    specs_id = admin_api.post("/qos-specs", {"qos_specs": {"name": unique("qos")}}).json()[
        "qos_specs"
    ]["id"]
    other = admin_api.post("/qos-specs", {"qos_specs": {"name": unique("qos")}}).json()[
        "qos_specs"
    ]["id"]

    linked = admin_api.get(f"/qos-specs/{specs_id}/associate?vol_type_id={vtype.id}")
    taken = admin_api.get(f"/qos-specs/{other}/associate?vol_type_id={vtype.id}")
    associations = admin_api.get(f"/qos-specs/{specs_id}/associations").json()
    shown = admin_api.get(f"/types/{vtype.id}").json()["volume_type"]
    refused = admin_api.delete(f"/qos-specs/{specs_id}")

    assert linked.status_code == 202
    assert taken.status_code == 400
    assert associations == {
        "qos_associations": [
            {"association_type": "volume_type", "name": vtype.name, "id": str(vtype.id)}
        ]
    }
    assert shown["qos_specs_id"] == specs_id
    assert refused.status_code == 400

    assert admin_api.get(f"/qos-specs/{specs_id}/disassociate_all").status_code == 202
    assert admin_api.get(f"/types/{vtype.id}").json()["volume_type"]["qos_specs_id"] is None
    admin_api.get(f"/qos-specs/{specs_id}/associate?vol_type_id={vtype.id}")
    forced = admin_api.call("DELETE", f"/qos-specs/{specs_id}?force=true")
    assert forced.status_code == 202
    assert VolumeType.objects.get(id=vtype.id).qos_specs_id is None


def test_members_manage_no_qos_and_no_encryption(owner_api, vtype):
    assert owner_api.get("/qos-specs").status_code == 403
    assert owner_api.post("/qos-specs", {"qos_specs": {"name": "x"}}).status_code == 403
    assert owner_api.get(f"/types/{vtype.id}/encryption").status_code == 403


def test_type_encryption_is_created_shown_updated_and_deleted(admin_api, vtype):
    body = {"encryption": {"provider": "luks", "key_size": "256", "control_location": "front-end"}}

    created = admin_api.post(f"/types/{vtype.id}/encryption", body)
    twice = admin_api.post(f"/types/{vtype.id}/encryption", body)
    shown = admin_api.get(f"/types/{vtype.id}/encryption").json()
    encryption_id = created.json()["encryption"]["encryption_id"]
    updated = admin_api.put(
        f"/types/{vtype.id}/encryption/{encryption_id}",
        {"encryption": {"cipher": "aes-xts-plain64", "control_location": "back-end"}},
    )
    item = admin_api.get(f"/types/{vtype.id}/encryption/cipher").json()

    assert created.status_code == 200
    assert created.json()["encryption"] == {
        "provider": "luks",
        "key_size": 256,
        "control_location": "front-end",
        "volume_type_id": str(vtype.id),
        "encryption_id": encryption_id,
    }
    assert twice.status_code == 400
    assert shown["provider"] == "luks" and shown["key_size"] == 256 and shown["deleted"] is False
    assert updated.status_code == 200
    assert item == {"cipher": "aes-xts-plain64"}

    assert admin_api.delete(f"/types/{vtype.id}/encryption/{encryption_id}").status_code == 202
    assert admin_api.get(f"/types/{vtype.id}/encryption").json() == {}
    assert admin_api.delete(f"/types/{vtype.id}/encryption/{encryption_id}").status_code == 404


def test_a_type_in_use_keeps_its_encryption_as_it_is(admin_api, vtype, world):
    Volume.objects.create(project=world.project, user=world.owner, size=1, volume_type=vtype)
    body = {"encryption": {"provider": "luks", "control_location": "front-end"}}

    refused = admin_api.post(f"/types/{vtype.id}/encryption", body)

    assert refused.status_code == 400
    assert "Volume type in use" in refused.json()["badRequest"]["message"]
    assert admin_api.get(f"/types/{vtype.id}/encryption").json() == {}
