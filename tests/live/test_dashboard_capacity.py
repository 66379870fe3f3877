"""The dashboard draws pools whose reports say 'infinite' or 'unknown', as Cinder allows."""

import uuid

import pytest
from django.test import Client

from scheduler.models import Pool
from tests.conftest import make_user
from tests.live.test_socket_security import open_stream

pytestmark = pytest.mark.integration


@pytest.fixture
def unbounded_pools(live_db):
    """Two pools reporting no number for their capacity (and a junk reserved percentage)."""
    tag = uuid.uuid4().hex[:6]
    reports = {
        f"unbounded-{tag}@a#a": {"total_capacity_gb": "infinite", "free_capacity_gb": "infinite"},
        f"unbounded-{tag}@b#b": {
            "total_capacity_gb": "unknown",
            "free_capacity_gb": "unknown",
            "reserved_percentage": "lots",
            "thin_provisioning_support": True,
        },
    }
    for name, caps in reports.items():
        Pool.objects.create(name=name, host=name.partition("#")[0], capabilities=caps)
    yield list(reports)
    Pool.objects.filter(name__in=list(reports)).delete()


def admin_of(world):
    return make_user(f"dash-admin-{uuid.uuid4().hex[:6]}", is_superuser=True, is_staff=True)


def test_the_dashboard_page_shows_infinite_and_unknown_capacity(world, unbounded_pools):
    client = Client()
    client.force_login(admin_of(world))

    response = client.get("/", headers={"accept": "text/html"})

    html = response.content.decode()
    assert response.status_code == 200
    for name in unbounded_pools:
        assert f'data-pool="{name}"' in html
    assert "infinite of infinite" in html and "unknown of unknown" in html


def test_the_dashboard_socket_shows_infinite_and_unknown_capacity(server, world, unbounded_pools):
    with open_stream(server, "/ws/dashboard/", user=admin_of(world)) as ws:
        picture = ws.recv(timeout=30)

    assert 'id="dash-pools"' in picture
    for name in unbounded_pools:
        assert f'data-pool="{name}"' in picture
