"""The fleet agent keeps a loaded fleet up and serves creates on it with the real manager flow."""

import json
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from agent.models import FleetPool
from core.kernel.models import FlowRun, Service
from scheduler.models import Pool
from tests.integration.agent_support import create, wait_available
from tests.scheduler_integration.support import fleet_file
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def loaded_fleet(cloud, tmp_path):
    """Twenty pools in a zone of their own, registered but with long-stale heartbeats."""
    tag = uuid.uuid4().hex[:6]
    zone, prefix = f"fleet-{tag}", f"f{tag}-"
    path = tmp_path / "fleet.json"
    path.write_text(json.dumps(fleet_file(20, zone=zone, prefix=prefix)))
    call_command("load_fleet", str(path), stdout=open("/dev/null", "w"))
    hosts = list(FleetPool.objects.filter(availability_zone=zone).values_list("host", flat=True))
    Service.objects.filter(host__in=hosts).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    yield zone, prefix, hosts
    cloud.stop("fleet agent")
    call_command("load_fleet", "--unload", stdout=open("/dev/null", "w"))


def all_up(hosts) -> bool:
    now = timezone.now()
    services = Service.objects.filter(host__in=hosts)
    return len(services) == len(hosts) and all(s.is_up(now) for s in services)


def test_the_fleet_agent_brings_the_fleet_up_and_a_volume_lands_on_it(world, cloud, loaded_fleet):
    zone, prefix, hosts = loaded_fleet
    assert not all_up(hosts)

    cloud.manage("fleet agent", "fleet_agent")
    wait_until(lambda: all_up(hosts), timeout=60, what="the fleet's heartbeats")
    assert Pool.objects.filter(host__in=hosts).count() == 20

    volume = wait_available(create(world, size=1, availability_zone=zone).id, timeout=90)

    # The file's biggest pool wins (CapacityWeigher); the fleet agent ran the manager flow.
    assert volume.host == f"{prefix}19@lvm-19#lvm-19"
    manager = FlowRun.objects.get(volume_id=volume.id, flow="manager")
    assert manager.state == "success" and manager.host == volume.host
    # Its next report counts the volume, as Cinder's manager adds allocated capacity.
    wait_until(
        lambda: (
            Pool.objects.get(name=volume.host).capabilities["allocated_capacity_gb"] == 50.0 + 1
        ),
        timeout=60,
        what="the fleet agent to report the new volume",
    )
