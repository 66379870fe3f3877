"""A fault that will do nothing more (its failures used up, its crash fired) is shown as
spent on the Backends page, and removed from there."""

import re
import subprocess
import sys
import uuid

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from agent import faults
from agent.models import BackendConfig, Fault
from tests.cluster import child_env
from tests.conftest import make_user


@pytest.fixture
def backend(live_db):
    config = BackendConfig.objects.create(host=f"spent-{uuid.uuid4().hex[:6]}", backend_name="lvm")
    yield config
    config.delete()


@pytest.fixture
def admin(live_db) -> Client:
    client = Client()
    client.force_login(make_user(f"root-{uuid.uuid4().hex[:8]}", is_superuser=True))
    return client


def section(client: Client, backend: BackendConfig) -> str:
    page = client.get(reverse("agent:backends")).content.decode()
    return re.search(rf'id="backend-{backend.pk}".*?</section>', page, re.S).group(0)


def test_a_fault_whose_failures_are_used_up_is_marked_spent_and_removable(backend, admin):
    fault = Fault.objects.create(backend=backend, operation="create", fail_next=1)
    assert "data-spent-fault" not in section(admin, backend)

    with pytest.raises(faults.FaultInjected):
        faults.apply(backend.service_host, "create")
    faults.apply(backend.service_host, "create")  # used up: the next create goes through

    shown = section(admin, backend)
    assert f'data-spent-fault="{fault.pk}"' in shown and "failed 1 time" in shown
    assert f'data-fault="{fault.pk}"' not in shown  # no longer listed as active

    admin.post(reverse("agent:fault-remove", args=[fault.pk]))
    assert not Fault.objects.filter(pk=fault.pk).exists()
    assert "data-spent-fault" not in section(admin, backend)


def test_a_crash_that_fired_is_marked_spent(backend, admin):
    fault = Fault.objects.create(backend=backend, operation="delete", crash=True)
    code = f"from agent import faults; faults.apply({backend.service_host!r}, 'delete')"
    died = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=settings.BASE_DIR,
        env=child_env(),
        capture_output=True,
        timeout=120,
    )
    assert died.returncode == -9  # the process that met the fault was killed

    shown = section(admin, backend)
    assert f'data-spent-fault="{fault.pk}"' in shown and "crash fired" in shown


def test_members_cannot_remove_faults(world, backend):
    fault = Fault.objects.create(backend=backend, operation="create", fail_next=1)
    member = Client()
    member.force_login(world.member)

    assert member.post(reverse("agent:fault-remove", args=[fault.pk])).status_code == 403
    assert Fault.objects.filter(pk=fault.pk).exists()
