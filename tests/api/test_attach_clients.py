"""Attaching and detaching, driven by the real `cinder` CLI and openstacksdk, unchanged,
against a live stack with real workers."""

import openstack.exceptions
import pytest

from core.cinder import quota
from core.cinder.models import Volume, VolumeAttachment
from tests.api.attaching import CONNECTOR, server
from tests.api.conftest import status_of
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
V344 = ("--os-volume-api-version", "3.44")


def created(owner, name: str) -> str:
    volume = owner.properties("create", "--name", name, "1")
    wait_until(status_of(Volume, volume["id"]), timeout=60, what="the volume")
    return volume["id"]


def statuses(volume_id) -> tuple[str, str]:
    volume = Volume.objects.get(id=volume_id)
    return volume.status, volume.attach_status


def test_cinder_attachment_create_connect_complete_and_delete(cli, world):
    owner, _ = cli
    volume_id = created(owner, "data")
    instance = server("app-1.example")

    made = owner.properties(
        *V344,
        "attachment-create",
        "--connect", "True",
        "--initiator", CONNECTOR["initiator"],
        "--ip", CONNECTOR["ip"],
        "--host", CONNECTOR["host"],
        "--mountpoint", "/dev/vdb",
        volume_id,
        instance,
    )  # fmt: skip

    assert made["status"] == "attaching" and made["instance"] == instance
    assert made["driver_volume_type"] == "iscsi"
    assert made["target_iqn"] == f"iqn.2010-10.org.openstack:volume-{volume_id}"
    assert statuses(volume_id) == ("attaching", "attaching")
    listed = owner.rows(*V344, "attachment-list")
    assert [(r["ID"], r["Status"]) for r in listed] == [(made["id"], "attaching")]

    owner.run(*V344, "attachment-complete", made["id"])

    assert statuses(volume_id) == ("in-use", "attached")
    shown = owner.properties(*V344, "show", volume_id)
    assert shown["status"] == "in-use" and instance in shown["attached_servers"]
    busy = owner.run(*V344, "attachment-create", volume_id, server("app-2.example"), check=False)
    assert busy.returncode != 0 and "(HTTP 400)" in busy.stderr
    refused = owner.run("delete", volume_id, check=False)
    assert "(HTTP 400)" in refused.stdout + refused.stderr

    owner.run(*V344, "attachment-delete", made["id"])

    assert statuses(volume_id) == ("available", "detached")
    assert not VolumeAttachment.objects.filter(volume_id=volume_id).exists()
    assert quota.check(str(world.project.pk)) == []


def test_cinder_refuses_to_attach_a_volume_in_error(cli, world):
    owner, _ = cli
    volume_id = created(owner, "broken")
    Volume.objects.filter(id=volume_id).update(status="error")

    refused = owner.run(*V344, "attachment-create", volume_id, server("x"), check=False)

    assert refused.returncode != 0 and "(HTTP 400)" in refused.stderr
    assert "error state" in refused.stderr
    assert not VolumeAttachment.objects.filter(volume_id=volume_id).exists()


def test_openstacksdk_attaches_and_detaches_the_old_way(sdk, world):
    storage = sdk.block_storage
    volume = storage.create_volume(size=1, name="sdk-attach")
    wait_until(status_of(Volume, volume.id), timeout=60, what="the sdk volume")
    instance = server("sdk-1.example")

    storage.reserve_volume(volume)
    assert storage.get_volume(volume.id).status == "attaching"
    info = storage.init_volume_attachment(volume, CONNECTOR)
    assert info["driver_volume_type"] == "iscsi" and info["data"]["target_lun"] == 1
    storage.attach_volume(volume, "/dev/vdb", instance=instance)

    shown = storage.get_volume(volume.id)
    assert shown.status == "in-use"
    (attachment,) = shown.attachments
    assert attachment["server_id"] == instance and attachment["device"] == "/dev/vdb"
    with pytest.raises(openstack.exceptions.BadRequestException):
        storage.reserve_volume(volume)

    storage.begin_volume_detaching(volume)
    assert storage.get_volume(volume.id).status == "detaching"
    storage.terminate_volume_attachment(volume, CONNECTOR)
    storage.detach_volume(volume, attachment["attachment_id"])

    shown = storage.get_volume(volume.id)
    assert shown.status == "available" and shown.attachments == []
    assert quota.check(str(world.project.pk)) == []
