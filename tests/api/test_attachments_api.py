"""The attachments API (3.27+) on real agents: reserve, connect, complete, delete."""

import uuid

import pytest
from django.test import Client

from agent.drivers import backend_config, driver_for
from agent.models import Fault
from core.cinder import quota
from core.cinder.models import Membership, Notification, UserMessage, Volume
from core.kernel.models import FlowRun
from tests.api.attaching import CONNECTOR, server
from tests.api.conftest import Api, token_for
from tests.conftest import make_user
from tests.integration.agent_support import wait_available

pytestmark = pytest.mark.integration

SERVER = server("db-1.example")


@pytest.fixture
def volume(world, owner_api, cloud):
    answer = owner_api.post("/volumes", {"volume": {"size": 1}})
    assert answer.status_code == 202
    return wait_available(answer.json()["volume"]["id"])


def statuses(volume) -> tuple[str, str]:
    row = Volume.objects.get(id=volume.id)
    return row.status, row.attach_status


def create(api, volume, connector=None, **extra):
    body = {"volume_uuid": str(volume.id), "instance_uuid": SERVER, **extra}
    if connector is not None:
        body["connector"] = connector
    return api.post("/attachments", {"attachment": body})


def test_reserve_connect_complete_and_delete(world, owner_api, volume):
    made = create(owner_api, volume)
    assert made.status_code == 200, made.content
    attachment = made.json()["attachment"]
    assert attachment["status"] == "reserved" and attachment["instance"] == SERVER
    assert attachment["connection_info"] == {} and attachment["attached_at"] == ""
    assert statuses(volume) == ("reserved", "detached")
    listed = owner_api.get("/attachments").json()["attachments"]
    assert {
        "id": attachment["id"],
        "status": "reserved",
        "instance": SERVER,
        "volume_id": str(volume.id),
    } in listed

    updated = owner_api.put(
        f"/attachments/{attachment['id']}", {"attachment": {"connector": CONNECTOR}}
    )

    assert updated.status_code == 200, updated.content
    info = updated.json()["attachment"]["connection_info"]
    iqn = f"iqn.2010-10.org.openstack:volume-{volume.id}"
    assert info["driver_volume_type"] == "iscsi" and info["attachment_id"] == attachment["id"]
    assert info["target_iqn"] == iqn and info["target_lun"] == 1 and info["auth_method"] == "CHAP"
    assert updated.json()["attachment"]["status"] == "attaching"
    assert statuses(volume) == ("attaching", "attaching")

    done = owner_api.post(f"/attachments/{attachment['id']}/action", {"os-complete": {}})
    assert done.status_code == 204
    assert statuses(volume) == ("in-use", "attached")
    shown = owner_api.get(f"/attachments/{attachment['id']}").json()["attachment"]
    assert shown["status"] == "attached" and shown["attached_at"]
    body = owner_api.get(f"/volumes/{volume.id}").json()["volume"]
    assert [(a["attachment_id"], a["host_name"]) for a in body["attachments"]] == [
        (attachment["id"], "compute-1")
    ]

    deleted = owner_api.delete(f"/attachments/{attachment['id']}")

    assert deleted.status_code == 200 and deleted.json() == {"attachments": []}
    assert statuses(volume) == ("available", "detached")
    assert owner_api.get(f"/attachments/{attachment['id']}").status_code == 404
    assert iqn not in driver_for(backend_config(volume.host)).runner.targets.targets()
    events = list(
        Notification.objects.filter(volume_id=volume.id, event_type__regex=r"\.(at|de)tach\.")
        .order_by("created_at")
        .values_list("event_type", "publisher_id")
    )
    assert [e for e, _ in events] == [
        "volume.attach.start",
        "volume.attach.end",
        "volume.detach.start",
        "volume.detach.end",
    ]
    assert events[0][1] == f"volume.{volume.host}"  # the backend's; the ends are the API's
    runs = FlowRun.objects.filter(volume_id=volume.id).exclude(operation="create")
    assert sorted((r.operation, r.flow_name) for r in runs) == [
        ("attach", "volume_attachment_update_manager"),
        ("detach", "volume_attachment_delete_manager"),
    ]
    assert quota.check(str(world.project.pk)) == []


def test_create_with_a_connector_connects_at_once(owner_api, volume):
    made = create(owner_api, volume, CONNECTOR)

    assert made.status_code == 200, made.content
    attachment = made.json()["attachment"]
    assert attachment["status"] == "attaching"
    assert attachment["connection_info"]["target_portal"].endswith(":3260")
    assert statuses(volume) == ("attaching", "attaching")


def test_a_reserved_attachment_is_deleted_without_the_backend(owner_api, volume):
    attachment = create(owner_api, volume).json()["attachment"]

    assert owner_api.delete(f"/attachments/{attachment['id']}").status_code == 200
    assert statuses(volume) == ("available", "detached")
    assert not FlowRun.objects.filter(volume_id=volume.id, operation="detach").exists()


def test_what_cinder_refuses(owner_api, outsider_api, volume):
    old = Api(owner_api.token, version="volume 3.26")
    assert old.get("/attachments").status_code == 404
    attachment = create(owner_api, volume).json()["attachment"]
    other_server = owner_api.post(
        "/attachments",
        {"attachment": {"volume_uuid": str(volume.id), "instance_uuid": str(uuid.uuid4())}},
    )
    assert other_server.status_code == 400  # reserved, not multiattach
    again = create(owner_api, volume)  # the same server may (Nova's live migration)
    assert again.status_code == 200
    owner_api.delete(f"/attachments/{again.json()['attachment']['id']}")
    assert outsider_api.get(f"/attachments/{attachment['id']}").status_code == 404
    pre_complete = Api(owner_api.token, version="volume 3.43")
    early = pre_complete.post(f"/attachments/{attachment['id']}/action", {"os-complete": {}})
    assert early.status_code == 400
    pre_mode = Api(owner_api.token, version="volume 3.53")
    assert create(pre_mode, volume, mode="ro").status_code == 400

    no_initiator = owner_api.put(
        f"/attachments/{attachment['id']}", {"attachment": {"connector": {"host": "h"}}}
    )
    assert no_initiator.status_code == 400
    assert owner_api.get(f"/attachments/{attachment['id']}").json()["attachment"]["status"] == (
        "reserved"
    )
    owner_api.delete(f"/attachments/{attachment['id']}")
    Volume.objects.filter(id=volume.id).update(status="error")
    refused = create(owner_api, volume)
    assert refused.status_code == 400
    assert "error state" in refused.json()["badRequest"]["message"]


def test_a_backend_failure_fails_the_attachment_and_frees_the_volume(world, owner_api, volume):
    attachment = create(owner_api, volume).json()["attachment"]
    fault = Fault.objects.create(
        backend=backend_config(volume.host), operation="attach", fail_next=1
    )
    try:
        answer = owner_api.put(
            f"/attachments/{attachment['id']}", {"attachment": {"connector": CONNECTOR}}
        )
    finally:
        fault.delete()

    assert answer.status_code == 500
    assert answer.json()["computeFault"]["message"].startswith("Unable to update attachment")
    shown = owner_api.get(f"/attachments/{attachment['id']}").json()["attachment"]
    assert shown["status"] == "error_attaching"
    assert statuses(volume) == ("available", "detached")
    message = UserMessage.objects.get(resource_uuid=volume.id)
    assert message.event_id == "VOLUME_VOLUME_004_021"
    assert owner_api.delete(f"/attachments/{attachment['id']}").status_code == 200
    assert quota.check(str(world.project.pk)) == []


def test_an_admin_lists_every_project_s_attachments(admin_api, owner_api, volume, world):
    attachment = create(owner_api, volume).json()["attachment"]
    mine = {a["id"] for a in admin_api.get("/attachments").json()["attachments"]}
    every = {a["id"] for a in admin_api.get("/attachments?all_tenants=1").json()["attachments"]}
    assert attachment["id"] not in mine and attachment["id"] in every
    filtered = owner_api.get(f"/attachments/detail?volume_id={volume.id}").json()
    assert [a["id"] for a in filtered["attachments"]] == [attachment["id"]]
    assert filtered["attachments"][0]["attach_mode"] == "null"
    assert owner_api.get("/attachments?status=reserved").json()["attachments"] == []


def test_a_reader_sees_attachments_and_attaches_nothing(world, owner_api, volume):
    reader = make_user(f"reader-{uuid.uuid4().hex[:6]}")
    Membership.objects.create(user=reader, project=world.project, role="reader")
    attachment = create(owner_api, volume).json()["attachment"]
    api = Api(token_for(reader, world.project))

    listed = api.get("/attachments").json()["attachments"]

    assert [a["id"] for a in listed] == [attachment["id"]]
    assert create(api, volume).status_code == 403
    assert api.delete(f"/attachments/{attachment['id']}").status_code == 403
    web = Client()
    web.force_login(reader)
    form = {"server": "web-9", "host": "compute-1", "mode": "rw"}
    assert web.post(f"/volumes/{volume.id}/attach/", form).status_code == 403
    assert statuses(volume) == ("reserved", "detached")
