"""Deleting a volume type, as Cinder does: refused while live volumes use it; a type only
deleted volumes used is marked deleted (they still name it) and its name is free again."""

import uuid

from core.cinder.models import Volume, VolumeType


def test_a_type_goes_once_its_volumes_are_deleted_and_its_name_is_free(admin_api, world):
    name = f"t-{uuid.uuid4().hex[:6]}"
    type_id = admin_api.post("/types", {"volume_type": {"name": name}}).json()["volume_type"]["id"]
    volume = Volume.objects.create(
        project=world.project, user=world.owner, size=1, volume_type_id=type_id
    )

    refused = admin_api.delete(f"/types/{type_id}")
    Volume.objects.filter(id=volume.id).update(deleted=True, status="deleted")
    deleted = admin_api.delete(f"/types/{type_id}")
    again = admin_api.post("/types", {"volume_type": {"name": name}})

    assert refused.status_code == 400 and "still in use" in refused.json()["badRequest"]["message"]
    assert deleted.status_code == 202
    assert admin_api.get(f"/types/{type_id}").status_code == 404
    listed = {t["id"] for t in admin_api.get("/types").json()["volume_types"]}
    assert type_id not in listed and again.json()["volume_type"]["id"] in listed
    assert Volume.all_objects.get(id=volume.id).volume_type.name == name
    assert again.status_code == 200 and again.json()["volume_type"]["id"] != type_id
    assert VolumeType.all_objects.filter(name=name).count() == 2
