"""Shared fixtures: a small named world, real Redis, real workers, a real server.

Tests that need committed data (anything a worker or another connection must
see) use ``live_db``: the session's test database without a wrapping
transaction. They never flush it; each makes its own project instead.
"""

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command

from core.cinder.models import Membership, Project
from core.kernel.models import Service
from core.kernel.queues import redis_connection
from portal.embedded_redis import EmbeddedRedis
from scheduler.models import Pool
from tests.cluster import Processes, free_port
from tests.waiting import wait_until

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(scope="session")
def django_db_setup(
    django_test_environment, django_db_blocker, django_db_keepdb, django_db_modify_db_settings
):
    """Always create the test database: integration tests use it without the db mark.

    (pytest-django creates only the databases that marked tests ask for.)
    """
    from django.test.utils import setup_databases, teardown_databases

    # A new database has no volumes: the simulated volume groups of earlier sessions go too,
    # or their logical volumes would fill the backends' space session after session.
    shutil.rmtree(Path(settings.AGENT_DATA_DIR), ignore_errors=True)
    with django_db_blocker.unblock():
        config = setup_databases(
            verbosity=0, interactive=False, keepdb=django_db_keepdb, aliases={"default"}
        )
    yield
    with django_db_blocker.unblock():
        _end_other_sessions()
        teardown_databases(config, verbosity=0, keepdb=django_db_keepdb)


def _end_other_sessions() -> None:
    """PostgreSQL refuses to drop a database with sessions: a stopped worker's may linger."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(scope="session")
def redis_server():
    """The embedded Redis under var/test (or REDIS_URL's), emptied for the session."""
    server = EmbeddedRedis(settings.VAR_DIR) if settings.EMBEDDED_REDIS else None
    started = server.start() if server else False
    redis_connection().flushdb()
    yield settings.REDIS_URL
    if started:
        server.stop()


@pytest.fixture(scope="session")
def seeded(django_db_setup, django_db_blocker, redis_server):
    with django_db_blocker.unblock():
        call_command("seed_demo", stdout=open("/dev/null", "w"))
    return True


@pytest.fixture
def live_db(seeded, django_db_blocker):
    with django_db_blocker.unblock():
        yield


@dataclass
class World:
    project: Project
    owner: object
    member: object
    outsider: object


def make_user(name: str, project: Project | None = None, **extra):
    user = get_user_model().objects.create_user(name, f"{name}@example.invalid", PASSWORD, **extra)
    if project is not None:
        Membership.objects.create(user=user, project=project)
    return user


@pytest.fixture
def world(live_db) -> World:
    """A fresh project with an owner and a member, and an outsider in another project."""
    tag = uuid.uuid4().hex[:8]
    project = Project.objects.create(name=f"p-{tag}")
    other = Project.objects.create(name=f"other-{tag}")
    return World(
        project=project,
        owner=make_user(f"owner-{tag}", project),
        member=make_user(f"member-{tag}", project),
        outsider=make_user(f"outsider-{tag}", other),
    )


@pytest.fixture
def admin_user(world):
    """A cloud admin (superuser), a member of the world's project."""
    return make_user(f"root-{uuid.uuid4().hex[:8]}", world.project, is_superuser=True)


@pytest.fixture(scope="session")
def processes():
    procs = Processes()
    yield procs
    procs.stop_all()


def backends_up(hosts: list[str]) -> bool:
    from django.utils import timezone

    now = timezone.now()
    services = {s.host: s for s in Service.objects.filter(host__in=hosts)}
    pools = set(Pool.objects.values_list("host", flat=True))
    return all(h in services and services[h].is_up(now) and h in pools for h in hosts)


@pytest.fixture(scope="session")
def cloud(seeded, processes, django_db_blocker):
    """The scheduler and the demo agents, running as real processes."""
    from agent.models import BackendConfig
    from portal.processes import agent_commands

    with django_db_blocker.unblock():
        processes.manage("scheduler", "scheduler")
        for command in agent_commands():
            processes.manage(f"agent {command[2]}", *command)
        hosts = [c.service_host for c in BackendConfig.objects.all()]
        wait_until(lambda: backends_up(hosts), timeout=60, what="agents to report")
    return processes


WITH_RETRY_FILTER = (
    "AvailabilityZoneFilter,CapacityFilter,CapabilitiesFilter,IgnoreAttemptedHostsFilter"
)


@pytest.fixture
def scheduler_ignoring_attempted_hosts(cloud):
    """The cloud's scheduler restarted with IgnoreAttemptedHostsFilter, then put back.

    One scheduler at a time: two on one queue would race for the same jobs.
    """
    cloud.stop("scheduler")
    cloud.manage("scheduler", "scheduler", SCHEDULER_DEFAULT_FILTERS=WITH_RETRY_FILTER)
    yield
    cloud.stop("scheduler")
    cloud.manage("scheduler", "scheduler")


@pytest.fixture(scope="session")
def server(cloud):
    """daphne serving the portal on a free port, as `make run` starts it."""
    import sys
    import urllib.request

    port = free_port()
    cloud.start(
        "daphne",
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "portal.asgi:application",
        ],
    )
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                return True
        except urllib.error.HTTPError:
            return True  # 503 is an answer
        except OSError:
            return False

    wait_until(answers, timeout=30, what="daphne to answer")
    return url


def pytest_collection_modifyitems(session, config, items):
    """Tests without the running cloud first, then those with it, then the browser's.

    The cloud's scheduler and agents serve the queues for the rest of the session once
    started, so a test that casts without them and then looks at the result would race
    them. Browser tests go last: Playwright's sync API leaves an event loop in the main
    thread, after which code calling async_to_sync in that thread is refused."""
    items.sort(
        key=lambda item: (
            item.get_closest_marker("browser") is not None,
            "cloud" in getattr(item, "fixturenames", ()),
        )
    )


# A real headless browser: Debian's chromium driven by Playwright (browser tests,
# and the fault suite's page that rides out a Redis restart).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.fail("Debian's chromium is not installed; `make test` installs it")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
