"""A volume nothing can take: the page and the list say why, with the scheduler's trace."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.integration.agent_support import create, dedicated_type, settled, unique_tag
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_volume_no_backend_matches_shows_the_reason_and_the_funnel(world, cloud):
    vtype = dedicated_type(unique_tag())  # a storage tier no demo backend reports
    volume = create(world, size=1, volume_type=vtype.name, availability_zone="nova")
    volume = wait_until(settled(volume.id), timeout=60, what="the volume to settle")
    assert volume.status == "error"
    client = client_for(world.member)

    page = client.get(reverse("volumes:detail", args=[volume.id])).content.decode()
    listing = client.get(reverse("volumes:list")).content.decode()

    message = re.search(r"data-user-message>⚠ ([^<]*)</p>", page)
    assert message, "the volume page shows the user message"
    # Cinder's user message: "<action>: <detail>".
    assert message.group(1).startswith("schedule allocate volume: No valid backend was found.")
    assert "CapabilitiesFilter rejected all 2 remaining pools" in message.group(1)
    # The funnel: both nova pools pass the zone and capacity, none the capabilities.
    steps = dict(re.findall(r'data-funnel-step="([^"]+)" data-count="(\d+)"', page))
    assert steps["AvailabilityZoneFilter"] == "2" and steps["CapacityFilter"] == "2"
    assert steps["CapabilitiesFilter"] == "0"
    assert "no valid backend" in page
    for pool in ("node1@lvm-thick#LVM_thick", "node1@lvm-thin#LVM_thin"):
        row = re.search(rf'<tr data-trace-pool="{re.escape(pool)}">(.*?)</tr>', page, re.S)
        assert row and "storage_tier" in row.group(1), f"{pool}'s row says what it lacked"
    # The list shows the same reason beside the status.
    row = re.search(rf'<tr id="volume-row-{volume.id}">(.*?)</tr>', listing, re.S)
    assert row and 'data-volume-status="error"' in row.group(1)
    assert "No valid backend was found." in row.group(1)
