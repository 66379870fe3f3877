"""A snapshot is made by a recorded flow, shown on its volume's page like any operation."""

import pytest

from core.cinder.models import Notification, Snapshot
from core.kernel.models import FlowRun
from tests.integration.agent_support import context, create, wait_available
from tests.waiting import wait_until
from volumes import api

pytestmark = pytest.mark.integration


def test_a_snapshot_runs_as_a_recorded_flow_with_its_lvcreate(world, cloud, client):
    volume = wait_available(create(world, size=1).id)
    snapshot = api.create_snapshot(context(world), volume.id, name="s1")
    wait_until(
        lambda: Snapshot.objects.filter(id=snapshot.id, status="available").exists(),
        timeout=60,
        what="the snapshot",
    )
    run = wait_until(
        lambda: FlowRun.objects.filter(
            volume_id=volume.id, operation="snapshot", state="success"
        ).first(),
        timeout=30,
        what="the snapshot's flow",
    )
    assert run.flow_name == "snapshot_create_manager" and run.host == volume.host
    commands = [" ".join(c["argv"]) for t in run.tasks.all() for c in t.commands]
    assert any(f"--name _snapshot-{snapshot.id} --snapshot" in c for c in commands), commands
    events = Notification.objects.filter(volume_id=volume.id, event_type__startswith="snapshot.")
    assert sorted(events.values_list("event_type", flat=True)) == [
        "snapshot.create.end",
        "snapshot.create.start",
    ]
    client.force_login(world.owner)
    page = client.get(f"/volumes/{volume.id}/").content.decode()
    assert 'data-operation="snapshot"' in page and f'id="snapshot-{snapshot.id}"' in page
    assert 'data-snapshot-status="available"' in page
