"""Attaching the old way (os-reserve ... os-detach) through the REST API, on real agents."""

import pytest

from agent.drivers import backend_config, driver_for
from agent.models import Fault
from core.cinder import quota
from core.cinder.models import Notification, UserMessage, Volume, VolumeAttachment
from core.kernel.models import FlowRun
from tests.api.attaching import CONNECTOR, server
from tests.integration.agent_support import wait_available
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

SERVER = server("web-1.example")


@pytest.fixture
def volume(world, owner_api, cloud):
    answer = owner_api.post("/volumes", {"volume": {"size": 1}})
    assert answer.status_code == 202
    return wait_available(answer.json()["volume"]["id"])


def action(api, volume, name, body=None):
    return api.post(f"/volumes/{volume.id}/action", {name: body if body is not None else {}})


def status(volume) -> tuple[str, str]:
    row = Volume.objects.get(id=volume.id)
    return row.status, row.attach_status


def targets(volume) -> dict:
    return driver_for(backend_config(volume.host)).runner.targets.targets()


def attach(api, volume) -> dict:
    assert action(api, volume, "os-reserve").status_code == 202
    answer = action(api, volume, "os-initialize_connection", {"connector": CONNECTOR})
    assert answer.status_code == 200, answer.content
    mounted = action(api, volume, "os-attach", {"instance_uuid": SERVER, "mountpoint": "/dev/vdb"})
    assert mounted.status_code == 202, mounted.content
    return answer.json()["connection_info"]


def test_the_whole_legacy_cycle_exports_attaches_and_detaches(world, owner_api, volume):
    assert action(owner_api, volume, "os-reserve").status_code == 202
    assert status(volume) == ("attaching", "detached")

    answer = action(owner_api, volume, "os-initialize_connection", {"connector": CONNECTOR})

    assert answer.status_code == 200, answer.content
    info = answer.json()["connection_info"]
    row = Volume.objects.get(id=volume.id)
    config = backend_config(volume.host)
    iqn = f"iqn.2010-10.org.openstack:volume-{volume.id}"
    assert info["driver_volume_type"] == "iscsi" and info["enforce_multipath"] is False
    data = info["data"]
    assert data["target_iqn"] == iqn and data["target_lun"] == 1
    assert data["target_portal"].endswith(f":{config.target_port}")
    assert row.provider_auth == f"CHAP {data['auth_username']} {data['auth_password']}"
    portal, iqn_shown, lun = row.provider_location.split(" ")
    assert (portal.split(",")[0], iqn_shown, lun) == (data["target_portal"], iqn, "1")
    assert data["access_mode"] == "rw" and data["volume_id"] == str(volume.id)
    assert targets(volume)[iqn]["backing_store"].endswith(f"/volume-{volume.id}")

    mounted = action(
        owner_api, volume, "os-attach", {"instance_uuid": SERVER, "mountpoint": "/dev/vdb"}
    )
    assert mounted.status_code == 202, mounted.content
    assert status(volume) == ("in-use", "attached")
    shown = owner_api.get(f"/volumes/{volume.id}").json()["volume"]
    assert [(a["server_id"], a["device"]) for a in shown["attachments"]] == [(SERVER, "/dev/vdb")]
    refused = owner_api.delete(f"/volumes/{volume.id}")
    assert refused.status_code == 400 and status(volume)[0] == "in-use"

    assert action(owner_api, volume, "os-begin_detaching").status_code == 202
    assert status(volume) == ("detaching", "attached")
    terminated = action(owner_api, volume, "os-terminate_connection", {"connector": CONNECTOR})
    assert terminated.status_code == 202
    assert status(volume)[0] == "detaching"
    assert action(owner_api, volume, "os-detach", {"attachment_id": None}).status_code == 202

    assert status(volume) == ("available", "detached")
    assert owner_api.get(f"/volumes/{volume.id}").json()["volume"]["attachments"] == []
    assert iqn not in targets(volume)
    gone = VolumeAttachment.all_objects.get(volume_id=volume.id)
    assert gone.deleted and gone.attach_status == "detached" and gone.detach_time
    events = list(
        Notification.objects.filter(volume_id=volume.id, event_type__regex=r"\.(at|de)tach\.")
        .order_by("created_at")
        .values_list("event_type", flat=True)
    )
    assert events == [
        "volume.attach.start",
        "volume.attach.end",
        "volume.detach.start",
        "volume.detach.end",
    ]
    runs = FlowRun.objects.filter(volume_id=volume.id).exclude(operation="create")
    assert sorted((r.operation, r.flow_name) for r in runs) == [
        ("attach", "volume_attach_volume_manager"),
        ("attach", "volume_initialize_connection_manager"),
        ("detach", "volume_detach_volume_manager"),
        ("detach", "volume_terminate_connection_manager"),
    ]
    export = runs.get(flow_name="volume_initialize_connection_manager")
    lines = [" ".join(c["argv"]) for t in export.tasks.all() for c in t.commands]
    assert f"tgt-admin --update {iqn}" in lines
    removal = runs.get(flow_name="volume_detach_volume_manager")
    lines = [" ".join(c["argv"]) for t in removal.tasks.all() for c in t.commands]
    assert f"tgt-admin --delete {iqn} -f" in lines
    assert quota.check(str(world.project.pk)) == []


def test_what_cinder_refuses_is_refused(owner_api, volume):
    missing = action(owner_api, volume, "os-initialize_connection", {"connector": {"host": "h"}})
    assert missing.status_code == 400
    assert "initiator" in missing.json()["badRequest"]["message"]
    assert Volume.objects.get(id=volume.id).provider_location == ""

    not_attached = action(owner_api, volume, "os-begin_detaching")
    assert not_attached.status_code == 400
    bad_server = action(
        owner_api, volume, "os-attach", {"instance_uuid": "x", "mountpoint": "/dev/vdb"}
    )
    assert bad_server.status_code == 400
    no_target = action(owner_api, volume, "os-attach", {"mountpoint": "/dev/vdb"})
    assert no_target.status_code == 400

    Volume.objects.filter(id=volume.id).update(status="error")
    refused = action(owner_api, volume, "os-reserve")
    assert refused.status_code == 400
    assert "must be available to reserve" in refused.json()["badRequest"]["message"]


def test_reserve_and_unreserve(owner_api, volume):
    assert action(owner_api, volume, "os-reserve").status_code == 202
    assert action(owner_api, volume, "os-reserve").status_code == 400  # not multiattach
    assert action(owner_api, volume, "os-unreserve").status_code == 202
    assert status(volume) == ("available", "detached")


def test_a_failed_detach_puts_the_volume_back_in_use_and_says_so(world, owner_api, volume):
    attach(owner_api, volume)
    fault = Fault.objects.create(
        backend=backend_config(volume.host), operation="attach", fail_next=1
    )
    try:
        assert action(owner_api, volume, "os-begin_detaching").status_code == 202
        answer = action(owner_api, volume, "os-detach", {})
    finally:
        fault.delete()

    assert answer.status_code == 500
    assert status(volume) == ("in-use", "attached")
    message = UserMessage.objects.get(resource_uuid=volume.id)
    assert message.event_id == "VOLUME_VOLUME_002_022"
    assert message.user_message == "attach volume: Failed to detach volume."
    assert action(owner_api, volume, "os-detach", {}).status_code == 202
    assert status(volume) == ("available", "detached")
    assert quota.check(str(world.project.pk)) == []


def test_force_detach_is_for_admins_and_detaches_whatever_the_status(owner_api, admin_api, volume):
    attach(owner_api, volume)
    denied = action(owner_api, volume, "os-force_detach", {})
    assert denied.status_code == 403

    done = action(admin_api, volume, "os-force_detach", {"connector": CONNECTOR})

    assert done.status_code == 202, done.content
    assert status(volume) == ("available", "detached")
    assert f"iqn.2010-10.org.openstack:volume-{volume.id}" not in targets(volume)


def test_an_export_left_behind_goes_with_the_volume(owner_api, volume):
    assert action(owner_api, volume, "os-reserve").status_code == 202
    connected = action(owner_api, volume, "os-initialize_connection", {"connector": CONNECTOR})
    assert connected.status_code == 200
    assert action(owner_api, volume, "os-unreserve").status_code == 202  # never attached
    iqn = f"iqn.2010-10.org.openstack:volume-{volume.id}"
    assert iqn in targets(volume)

    assert owner_api.delete(f"/volumes/{volume.id}").status_code == 202

    wait_until(lambda: Volume.all_objects.get(id=volume.id).status == "deleted", 60, "the delete")
    assert iqn not in targets(volume)
    delete = FlowRun.objects.get(volume_id=volume.id, operation="delete")
    lines = [" ".join(c["argv"]) for t in delete.tasks.all() for c in t.commands]
    assert f"tgt-admin --delete {iqn} -f" in lines


def test_an_admin_reset_to_detached_ends_the_attachments(owner_api, admin_api, volume):
    attach(owner_api, volume)

    reset = action(admin_api, volume, "os-reset_status", {"attach_status": "detached"})

    assert reset.status_code == 202
    assert status(volume) == ("available", "detached")
    assert not VolumeAttachment.objects.filter(volume_id=volume.id).exists()
    assert owner_api.get(f"/volumes/{volume.id}").json()["volume"]["attachments"] == []
