"""API test helpers: tokens for the named world, and a JSON client speaking Cinder's headers."""

import json
import sys
import urllib.request
import uuid

import openstack
import pytest
from django.test import Client

from core.cinder import tokens
from core.cinder.models import Volume
from core.cinder.quota_models import QuotaUsage, Reservation
from core.kernel.models import FlowRun
from tests.api.clients import Cinder
from tests.cluster import free_port
from tests.conftest import PASSWORD, make_user
from tests.waiting import wait_until

LATEST = "volume 3.71"


class Api:
    """Django's test client with a token and the microversion header on every call."""

    def __init__(self, token: str | None, version: str | None = LATEST, prefix: str = "/v3"):
        self.client = Client()
        self.token = token
        self.version = version
        self.prefix = prefix

    def headers(self, extra: dict | None = None) -> dict:
        headers = {"Accept": "application/json"}
        if self.token is not None:
            headers["X-Auth-Token"] = self.token
        if self.version is not None:
            headers["OpenStack-API-Version"] = self.version
        headers.update(extra or {})
        return headers

    def call(self, method: str, path: str, body=None, raw: bytes | None = None, **headers):
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        func = getattr(self.client, method.lower())
        kwargs = {"headers": self.headers(headers)}
        if data is not None:
            kwargs.update(data=data, content_type="application/json")
        return func(self.prefix + path, **kwargs)

    def get(self, path, **h):
        return self.call("GET", path, **h)

    def post(self, path, body=None, **h):
        return self.call("POST", path, body, **h)

    def put(self, path, body=None, **h):
        return self.call("PUT", path, body, **h)

    def delete(self, path, **h):
        return self.call("DELETE", path, **h)


def token_for(user, project) -> str:
    return tokens.issue(user, project, ["password"]).raw


@pytest.fixture
def owner_api(world) -> Api:
    return Api(token_for(world.owner, world.project))


@pytest.fixture
def outsider_api(world) -> Api:
    other = world.outsider.projects.first()
    return Api(token_for(world.outsider, other))


@pytest.fixture
def admin_api(live_db) -> Api:
    from django.contrib.auth import get_user_model

    from core.cinder.models import Project

    admin = get_user_model().objects.get(username="admin")
    return Api(token_for(admin, Project.objects.get(name="demo")))


def footprint(project) -> tuple:
    """Everything a create writes for a project in the request: volumes, reservations,
    usage and the API flow's record. (Later flows run in workers, for accepted ones.)

    A usage row at zero equals no row (the engine creates rows on first use).
    """
    usage = tuple(
        QuotaUsage.objects.filter(project=project)
        .exclude(in_use=0, reserved=0)
        .order_by("resource")
        .values_list("resource", "in_use", "reserved")
    )
    return (
        Volume.objects.filter(project=project).count(),
        Reservation.objects.filter(project=project).count(),
        usage,
        FlowRun.objects.filter(project_id=project.pk, flow="api").count(),
    )


# -- the real clients against a live server (integration tests) ------------------


def answering(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def noauth_server(server, processes):
    port = free_port()
    argv = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
    processes.start("daphne-noauth", [*argv, "portal.asgi:application"], CINDERLAB_AUTH="noauth")
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: answering(url), timeout=30, what="the noauth daphne to answer")
    return url


@pytest.fixture(params=["keystone", "noauth"])
def mode(request):
    return request.param


@pytest.fixture
def cli(mode, world, request, server):
    """`cinder` as the project owner, and as a cloud admin of the same project."""
    admin = make_user(f"cloudadmin-{uuid.uuid4().hex[:8]}", world.project, is_superuser=True)

    def as_user(user):
        if mode == "keystone":
            return Cinder.keystone(server, user.username, PASSWORD, world.project.name)
        noauth = request.getfixturevalue("noauth_server")
        return Cinder.noauth(noauth, user.username, world.project.pk)

    return as_user(world.owner), as_user(admin)


@pytest.fixture
def sdk(mode, world, request, server):
    """openstacksdk as the project owner (Keystone or noauth, as ``cli``)."""
    if mode == "keystone":
        return openstack.connect(
            auth_url=f"{server}/identity/v3",
            username=world.owner.username,
            password=PASSWORD,
            project_name=world.project.name,
            user_domain_name="Default",
            project_domain_name="Default",
            block_storage_api_version="3",
        )
    noauth = request.getfixturevalue("noauth_server")
    return openstack.connect(
        auth_type="admin_token",
        auth={"endpoint": f"{noauth}/v3", "token": f"{world.owner.username}:{world.project.pk}"},
        block_storage_api_version="3",
    )


def status_of(model, object_id, wanted=("available", "error")):
    def check():
        row = model.objects.filter(id=object_id).first()
        return row.status if row is not None and row.status in wanted else None

    return check
