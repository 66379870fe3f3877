"""Faithful surprises are explained on the volume page, each with its Cinder source line."""

import pytest

from agent.drivers import backend_config
from agent.models import Fault
from core.cinder.models import Volume, VolumeType
from tests.integration.agent_support import create, settled
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
GOLD = "node2@lvm-gold"


def page_of(client, world, volume) -> str:
    client.force_login(world.owner)
    return client.get(f"/volumes/{volume.id}/").content.decode()


def test_no_valid_backend_explains_the_green_scheduler_lane(world, cloud, client):
    volume = create(world, size=1, volume_type="gold", availability_zone="nova")
    volume = wait_until(settled(volume.id), 60, "the create to fail")
    assert volume.status == "error"
    page = page_of(client, world, volume)
    assert 'data-surprise="no_backend_success"' in page
    assert "cinder/scheduler/flows/create_volume.py#L" in page


def test_a_reschedule_onto_the_same_pool_is_explained(world, cloud, client):
    fault = Fault.objects.create(backend=backend_config(GOLD), operation="create", fail_next=1)
    try:
        volume = create(world, size=1, volume_type="gold", availability_zone="az2")
        volume = wait_until(settled(volume.id), 60, "the create to settle")
    finally:
        fault.delete()
    assert volume.status == "available"  # the second attempt, on the same pool, worked
    assert 'data-surprise="same_pool_retry"' in page_of(client, world, volume)


def test_a_thin_type_on_a_thick_pool_is_explained(world, cloud, client):
    volume = Volume.objects.create(
        project=world.project,
        user=world.owner,
        size=1,
        status="available",
        volume_type=VolumeType.objects.get(name="thin"),
        host="node1@lvm-thick#LVM_thick",
    )
    assert 'data-surprise="thin_on_thick"' in page_of(client, world, volume)
    Volume.objects.filter(id=volume.id).update(host="node1@lvm-thin#LVM_thin")
    assert 'data-surprise="thin_on_thick"' not in page_of(client, world, volume)
