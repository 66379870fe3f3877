"""/healthz: 200 when every part a create needs is up, 503 naming the part that is not."""

import json

import pytest
from django.test import Client

from tests.integration.agent_support import add_backend, retire_backends, unique_tag

pytestmark = pytest.mark.integration


def healthz():
    response = Client().get("/healthz")
    return response.status_code, json.loads(response.content)


def test_with_the_cloud_up_healthz_is_200_and_names_each_agent(live_db, cloud):
    status, report = healthz()

    assert status == 200, report
    assert report["scheduler"]["ok"]
    for host in ("node1@lvm-thick", "node1@lvm-thin", "node2@lvm-gold"):
        assert report["agents"][host]["ok"] is True
        assert report["agents"][host]["heartbeat_age_s"] < 10


def test_a_backend_whose_agent_never_started_makes_healthz_503(live_db, cloud):
    host = f"silent-{unique_tag()}"
    add_backend(host, "lvm", unique_tag())
    try:
        status, report = healthz()
    finally:
        retire_backends(host)

    assert status == 503
    assert report["agents"][f"{host}@lvm"] == {"ok": False, "heartbeat_age_s": None}
    assert report["agents"]["node1@lvm-thin"]["ok"] is True
    assert healthz()[0] == 200  # retired (disabled) backends are not required


def test_an_unreachable_redis_is_named_without_its_address_or_error(live_db, settings, tmp_path):
    """/healthz answers anyone: it says what is down, not where it lives or how it failed."""
    from core.kernel.queues import redis_connection

    missing = tmp_path / "no-redis-here.sock"
    settings.REDIS_URL = f"unix://{missing}"
    redis_connection.cache_clear()  # one connection per process, made from the setting
    try:
        status, report = healthz()
    finally:
        redis_connection.cache_clear()

    assert status == 503
    assert report["redis"] == {"ok": False, "error": "ConnectionError"}
    assert str(tmp_path) not in json.dumps(report)
