"""``manage.py quota_check``: finds drifted usage, exits 1; ``--sync`` repairs it."""

import subprocess
import sys

import pytest

from core.cinder.models import QuotaUsage
from tests.cluster import BASE, child_env
from tests.quota.helpers import usage
from volumes import api

pytestmark = pytest.mark.integration


def quota_check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(BASE / "manage.py"), "quota_check", *args],
        cwd=BASE,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_quota_check_finds_a_tampered_usage_and_sync_repairs_it(world):
    project = world.project
    api.create(api.request_context(world.owner, project), size=2)
    QuotaUsage.objects.filter(project=project, resource="gigabytes").update(in_use=7, reserved=3)

    found = quota_check("--project", project.pk)

    assert found.returncode == 1, found.stderr
    assert f"Project {project.pk}:" in found.stdout
    assert "gigabytes: invalid usage saved=7 actual=2" in found.stdout
    assert "gigabytes: invalid reserved saved=3 actual=0" in found.stdout
    assert "volumes: invalid" not in found.stdout
    assert usage(project, "gigabytes") == (7, 3)  # a check alone changes nothing

    synced = quota_check("--project", project.pk, "--sync")

    assert synced.returncode == 0, synced.stderr
    assert "gigabytes: invalid usage saved=7 actual=2 - fixed" in synced.stdout
    assert usage(project, "gigabytes") == (2, 0)

    again = quota_check("--project", project.pk)

    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "Quota usage is in sync."


def test_quota_check_refuses_an_unknown_project():
    result = quota_check("--project", "no-such-project")

    assert result.returncode == 1
    assert "Project no-such-project does not exist." in result.stderr
