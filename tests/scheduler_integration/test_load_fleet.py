"""``manage.py load_fleet``: a thousand simulated pools the scheduler can choose from."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from agent.models import BackendConfig, FleetPool
from core.kernel.models import Service
from portal.processes import agent_commands
from scheduler import host_manager
from scheduler.models import Pool
from tests.scheduler_integration.support import fleet_file

pytestmark = pytest.mark.django_db


def load(path, *args) -> str:
    out = StringIO()
    call_command("load_fleet", str(path), *args, stdout=out)
    return out.getvalue()


def test_a_thousand_pools_register_up_and_usable_by_the_scheduler(tmp_path):
    path = tmp_path / "fleet.json"
    path.write_text(json.dumps(fleet_file(1000, zone="sim-zone")))
    host_manager.clear_cache()

    out = load(path)

    assert "Registered 1000 simulated pools on 1000 backends" in out
    usable, excluded = host_manager.pool_states()
    sim = [p for p in usable if p.name.startswith("sim")]
    assert len(sim) == 1000 and not [n for n in excluded if n.startswith("sim")]
    assert {p.availability_zone for p in sim} == {"sim-zone"}
    assert Service.objects.filter(host="sim7@lvm-7", availability_zone="sim-zone").exists()
    config = BackendConfig.objects.get(host="sim7", backend_name="lvm-7")
    assert config.runner == "simulated" and not config.enabled
    assert ["fleet_agent", "--host", "fleet"] in agent_commands()


def test_unload_removes_every_simulated_pool_and_the_fleet_agent(tmp_path):
    path = tmp_path / "fleet.json"
    path.write_text(json.dumps(fleet_file(5)))
    load(path)

    out = StringIO()
    call_command("load_fleet", "--unload", stdout=out)

    assert "Removed 5 simulated pools" in out.getvalue()
    assert not FleetPool.objects.exists()
    assert not Pool.objects.filter(host__startswith="sim").exists()
    assert not Service.objects.filter(host__startswith="sim").exists()
    assert not BackendConfig.objects.filter(host__startswith="sim").exists()
    assert ["fleet_agent", "--host", "fleet"] not in agent_commands()


@pytest.mark.parametrize(
    "content, message",
    [
        ("[1, 2", "is not valid JSON"),
        ('{"pools": [{"name": "a@b#c"}, {"name": "a@b#c"}]}', "appears twice"),
        ('{"pools": [{"name": "a@b#c", "capabilities": []}]}', "capabilities must be an object"),
    ],
)
def test_a_bad_file_writes_nothing(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    before = (Pool.objects.count(), Service.objects.count(), BackendConfig.objects.count())

    with pytest.raises(CommandError, match=message) as caught:
        load(path)

    assert caught.value.returncode == 2
    assert not FleetPool.objects.exists()
    assert (Pool.objects.count(), Service.objects.count(), BackendConfig.objects.count()) == before


def test_it_refuses_to_take_over_a_configured_backend(tmp_path):
    BackendConfig.objects.create(host="sim0", backend_name="lvm-0", volume_backend_name="x")
    path = tmp_path / "fleet.json"
    path.write_text(json.dumps(fleet_file(2)))

    with pytest.raises(CommandError, match="sim0@lvm-0 is a configured backend"):
        load(path)

    assert not FleetPool.objects.exists()
    assert not Pool.objects.filter(host="sim1@lvm-1").exists()


def test_a_synthetic_fleet_can_be_generated_saved_and_decided_over(tmp_path):
    saved = tmp_path / "synthetic.json"
    out = StringIO()
    call_command("load_fleet", "--synthetic", "200", "--write", str(saved), stdout=out)

    assert "Registered 200 simulated pools on 200 backends" in out.getvalue()
    assert FleetPool.objects.count() == 200
    decided = StringIO()
    call_command("schedule", "--fleet", str(saved), "--size", "10", "--json", stdout=decided)
    result = json.loads(decided.getvalue())
    assert result["chosen"] is not None
    assert sum(len(s["passed"]) + len(s["failed"]) for s in result["filters"][:1]) == 200


def test_synthetic_needs_a_sensible_count(tmp_path):
    with pytest.raises(CommandError, match="1 to 20000") as caught:
        call_command("load_fleet", "--synthetic", "0")
    assert caught.value.returncode == 2
    assert not FleetPool.objects.exists()
