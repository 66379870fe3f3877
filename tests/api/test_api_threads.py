"""The REST API as daphne serves it: on its few lasting threads (portal/api_threads.py),
beside the pages on the same socket."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.conf import settings

from core.cinder import tokens
from core.cinder.models import QuotaLimit, Volume
from tests.api.conftest import token_for

pytestmark = pytest.mark.integration


def headers(token: str) -> dict:
    return {
        "X-Auth-Token": token,
        "OpenStack-API-Version": "volume 3.71",
        "Accept": "application/json",
    }


def test_a_burst_larger_than_the_thread_pool_is_answered_whole_and_in_order(server, world):
    """Four times more requests at once than threads: each waits its turn, none is lost,
    and each caller sees its own project only."""
    token = token_for(world.owner, world.project)
    names = [f"burst-{n}" for n in range(4 * settings.OSAPI_VOLUME_THREADS)]
    for resource in ("volumes", "gigabytes"):
        QuotaLimit.objects.create(project=world.project, resource=resource, hard_limit=-1)

    def create(name: str) -> requests.Response:
        body = {"volume": {"size": 1, "name": name}}
        return requests.post(f"{server}/v3/volumes", json=body, headers=headers(token), timeout=60)

    with ThreadPoolExecutor(len(names)) as pool:
        answers = list(pool.map(create, names))

    assert [a.status_code for a in answers] == [202] * len(names)
    assert all(a.headers["Content-Type"] == "application/json" for a in answers)
    assert sorted(a.json()["volume"]["name"] for a in answers) == sorted(names)
    made = Volume.objects.filter(project=world.project, display_name__in=names)
    assert made.count() == len(names)

    listed = requests.get(f"{server}/v3/volumes", headers=headers(token), timeout=30)
    assert sorted(v["name"] for v in listed.json()["volumes"]) == sorted(names)
    outsider = token_for(world.outsider, world.outsider.projects.first())
    theirs = requests.get(f"{server}/v3/volumes", headers=headers(outsider), timeout=30)
    assert theirs.json()["volumes"] == []


def test_a_revoked_token_is_refused_at_once_by_a_thread_that_keeps_its_connection(server, world):
    """A lasting thread keeps its database connection; it still reads each request fresh."""
    token = tokens.issue(world.owner, world.project, ["password"])
    url = f"{server}/v3/volumes"
    for _ in range(2 * settings.OSAPI_VOLUME_THREADS):  # every thread has served it
        assert requests.get(url, headers=headers(token.raw), timeout=30).status_code == 200

    tokens.revoke(token.token)

    for _ in range(2 * settings.OSAPI_VOLUME_THREADS):
        refused = requests.get(url, headers=headers(token.raw), timeout=30)
        assert refused.status_code == 401
        assert refused.headers["Content-Type"] == "application/json"


def test_a_body_over_the_limit_gets_cinders_413_through_the_server(server, world):
    token = token_for(world.owner, world.project)
    name = "x" * (settings.API_MAX_REQUEST_BODY + 1)
    answer = requests.post(
        f"{server}/v3/volumes",
        data=json.dumps({"volume": {"size": 1, "name": name}}),
        headers={**headers(token), "Content-Type": "application/json"},
        timeout=30,
    )
    assert answer.status_code == 413
    assert answer.json()["overLimit"]["message"] == "Request is too large."
    assert not Volume.objects.filter(project=world.project).exists()


def test_pages_and_the_api_share_the_socket(server):
    page = requests.get(f"{server}/accounts/login/", timeout=30)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    versions = requests.get(f"{server}/v3", headers={"Accept": "application/json"}, timeout=30)
    assert versions.status_code == 200
    assert [v["id"] for v in versions.json()["versions"]] == ["v3.0"]
