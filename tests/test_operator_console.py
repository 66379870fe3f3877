"""The operator's console in Django's admin: statuses as choices, reset-state and force-delete
through Cinder's rules, cleanup of stuck work, quota drift shown and synced, generated records
read only."""

import subprocess
import sys
import uuid

import pytest
from django.test import Client

from core.cinder import cleanable, quota
from core.cinder.models import Notification, UserMessage, Volume, Worker
from core.cinder.quota_models import QuotaUsage
from core.kernel.models import FlowRun
from scheduler.models import DecisionTrace, Pool
from tests.conftest import make_user
from tests.test_delete_rules import nowhere, volume_row
from volumes import api


@pytest.fixture
def console(world) -> Client:
    client = Client()
    client.force_login(make_user(f"op-{uuid.uuid4().hex[:8]}", is_superuser=True, is_staff=True))
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def action(client: Client, model: str, name: str, rows, **extra):
    return client.post(
        f"/admin/cinder/{model}/",
        {"action": name, "_selected_action": [str(r.pk) for r in rows], **extra},
        follow=True,
    )


GENERATED = {
    "kernel/flowrun": lambda w: FlowRun.objects.create(
        volume_id=uuid.uuid4(),
        project_id=w.project.pk,
        flow="api",
        flow_name="volume_create_api",
        state="SUCCESS",
    ),
    "scheduler/decisiontrace": lambda w: DecisionTrace.objects.create(volume_id=uuid.uuid4()),
    "scheduler/pool": lambda w: Pool.objects.create(name=nowhere(), host="x@y"),
    "cinder/notification": lambda w: Notification.objects.create(
        project=w.project, event_type="volume.create.start", publisher_id="test"
    ),
    "cinder/usermessage": lambda w: UserMessage.objects.create(
        project=w.project, event_id="VOLUME_000001", user_message="it failed"
    ),
    "cinder/worker": lambda w: Worker.objects.create(
        resource_type="VOLUME", resource_id=uuid.uuid4(), status="creating", service="x@y"
    ),
}


@pytest.mark.parametrize("model", sorted(GENERATED))
def test_generated_records_can_be_read_but_not_added_changed_or_deleted(world, console, model):
    row = GENERATED[model](world)
    base = f"/admin/{model}/"

    listing = console.get(base)
    page = console.get(f"{base}{row.pk}/change/")
    assert listing.status_code == 200 and page.status_code == 200
    assert f'href="{base}add/"' not in listing.content.decode()
    assert 'name="_save"' not in page.content.decode()  # a view, not a form
    assert console.get(f"{base}add/").status_code == 403
    assert console.post(f"{base}{row.pk}/change/", {}).status_code == 403
    assert console.get(f"{base}{row.pk}/delete/").status_code == 403
    assert type(row).objects.filter(pk=row.pk).exists()


def test_a_volume_is_never_added_in_the_admin(console):
    assert console.get("/admin/cinder/volume/add/").status_code == 403


def test_a_volumes_status_is_a_choice_and_changing_it_is_cinders_reset(world, console):
    volume = volume_row(world, "error", nowhere())
    url = f"/admin/cinder/volume/{volume.id}/change/"
    page = console.get(url).content.decode()
    assert '<select name="status"' in page and '<option value="available">' in page
    assert '<input type="text" name="status"' not in page

    form = {
        "display_name": "renamed",
        "display_description": "",
        "status": "available",
        "attach_status": "detached",
        "migration_status": "",
        "size": "99",  # shown, not editable
    }
    assert console.post(url, form).status_code == 302

    volume.refresh_from_db()
    assert (volume.status, volume.display_name, volume.size) == ("available", "renamed", 1)
    events = Notification.objects.filter(volume_id=volume.id).values_list("event_type", flat=True)
    assert {"volume.reset_status.start", "volume.reset_status.end"} <= set(events)


def test_a_status_cinder_refuses_is_a_form_error_and_nothing_changes(world, console):
    volume = volume_row(world, "error", nowhere())
    url = f"/admin/cinder/volume/{volume.id}/change/"
    form = {"display_name": "x", "status": "deleting", "attach_status": "detached"}

    answer = console.post(url, form)

    assert answer.status_code == 200
    assert "Cannot reset-state to deleting" in answer.content.decode()
    volume.refresh_from_db()
    assert (volume.status, volume.display_name) == ("error", "")


def test_reset_state_action_offers_the_statuses_then_resets_each_volume(world, console):
    volumes = [volume_row(world, "creating", nowhere()) for _ in range(2)]

    asked = action(console, "volume", "reset_state", volumes)
    page = asked.content.decode()
    assert '<select name="status"' in page and '<option value="error">' in page
    assert all(str(v.id) in page or v.display_name in page for v in volumes)
    assert {v.status for v in Volume.objects.filter(id__in=[v.id for v in volumes])} == {"creating"}

    done = action(console, "volume", "reset_state", volumes, apply="1", status="error")

    assert {v.status for v in Volume.objects.filter(id__in=[v.id for v in volumes])} == {"error"}
    assert "2 done." in messages_of(done)


def test_reset_state_names_a_volume_cinder_refuses(world, console):
    volume = volume_row(world, "error", nowhere())

    done = action(console, "volume", "reset_state", [volume], apply="1", status="in-use")

    assert any("does not have any attachments" in m for m in messages_of(done))
    volume.refresh_from_db()
    assert volume.status == "error"


def test_delete_refuses_a_status_cinder_refuses_but_force_delete_asks_then_deletes(world, console):
    host = nowhere()
    volume = volume_row(world, "maintenance", host)

    refused = action(console, "volume", "delete_volumes", [volume])
    assert any("Invalid volume" in m for m in messages_of(refused))
    asked = action(console, "volume", "force_delete", [volume])
    assert 'id="action-apply"' in asked.content.decode()
    assert Volume.objects.get(id=volume.id).status == "maintenance"  # asked, not done

    action(console, "volume", "force_delete", [volume], apply="1")

    volume.refresh_from_db()
    assert volume.status == "deleting"  # the delete is cast to the volume's backend
    work = Worker.objects.get(resource_id=volume.id)
    assert (work.func, work.service) == ("agent.manager.delete_volume", host.partition("#")[0])


def dead_owner() -> str:
    """The owner name of a process that has ended: work it claimed is lost."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        return cleanable.owner_name(child.pid)
    finally:
        child.kill()
        child.wait()


def test_clean_up_ends_work_whose_process_died_and_leaves_waiting_work_alone(world, console):
    stuck = volume_row(world, "creating", nowhere())
    Worker.objects.create(
        resource_type="VOLUME",
        resource_id=stuck.id,
        status="creating",
        service=stuck.host.partition("#")[0],
        queue=f"volume.{stuck.host.partition('#')[0]}",
        func="agent.manager.create_volume",
        job_id=uuid.uuid4().hex,
        owner=dead_owner(),
    )
    waiting = volume_row(world, "available", nowhere())
    api.delete(api.request_context(world.owner, world.project), waiting.id)  # queued, unserved
    rows = Worker.objects.filter(resource_id__in=[stuck.id, waiting.id])

    done = console.post(
        "/admin/cinder/worker/",
        {"action": "clean_up", "_selected_action": [str(r.pk) for r in rows]},
        follow=True,
    )

    assert "Cleaned up: 1 error, 1 still running." in messages_of(done)
    stuck.refresh_from_db()
    assert stuck.status == "error"
    assert UserMessage.objects.filter(resource_uuid=stuck.id).exists()
    assert not Worker.objects.filter(resource_id=stuck.id).exists()
    assert Volume.objects.get(id=waiting.id).status == "deleting"
    assert Worker.objects.filter(resource_id=waiting.id).exists()


def test_quota_check_shows_the_drift_and_sync_repairs_it(world, console):
    volume_row(world, "available", nowhere())
    QuotaUsage.objects.filter(project=world.project, resource="volumes").update(in_use=4)

    checked = console.post(
        "/admin/cinder/project/",
        {"action": "check_quota", "_selected_action": [world.project.pk]},
        follow=True,
    )
    assert any("volumes: invalid usage saved=4 actual=1" in m for m in messages_of(checked))
    assert quota.check(world.project.pk)  # only shown

    synced = console.post(
        "/admin/cinder/project/",
        {"action": "sync_quota", "_selected_action": [world.project.pk]},
        follow=True,
    )

    assert any("saved=4 actual=1 - fixed" in m for m in messages_of(synced))
    assert quota.check(world.project.pk) == []
    assert quota.usage_summary(world.project.pk)["volumes"]["in_use"] == 1
