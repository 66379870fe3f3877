"""Scale out on what exists: a second machine's agent over shared PostgreSQL and TCP Redis.

The README's recipe, followed by a test: one machine runs ``manage.py run`` (the web
processes, the scheduler, the demo agents) with ``DATABASE_URL`` and ``REDIS_URL`` naming
shared servers; another machine, with its own var/ (its own disks), registers a backend
and runs ``manage.py agent --host <name>`` with the same two URLs. Volumes of a type only
that backend offers are scheduled to it, created on its disks, and answered through the
first machine's API. It needs the PostgreSQL (127.0.0.1:5432, user postgres, trust) and
Redis (127.0.0.1:6379) that CI runs; it uses a database of its own and an empty Redis
database number, and drops both at the end.
"""

import os
import shutil
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import psycopg
import pytest
import redis
import requests
from django.conf import settings

from core.kernel.procs import child_preexec
from tests.cluster import BASE, free_port, keystone_token
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

PG = "postgres://postgres@127.0.0.1:5432"
PASSWORD = "scale-out-password"


def shared_services() -> tuple[int | None, str]:
    """An empty Redis database number, or None and why the shared servers cannot be used."""
    try:
        with psycopg.connect(f"{PG}/postgres", connect_timeout=3):
            pass
    except psycopg.Error as error:
        return None, f"no PostgreSQL on 127.0.0.1:5432 ({error})"
    try:
        for number in range(15, 0, -1):
            if redis.Redis(host="127.0.0.1", port=6379, db=number, socket_timeout=3).dbsize() == 0:
                return number, ""
    except redis.RedisError as error:
        return None, f"no Redis on 127.0.0.1:6379 ({error})"
    return None, "every Redis database number on 127.0.0.1:6379 is in use"


def admin_sql(sql: str) -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as db:
        db.execute(sql)


class Machine:
    """One machine: its own var/ and processes, the shared servers' URLs."""

    def __init__(self, root: Path, name: str, database: str, redis_db: int):
        self.var = root / name
        self.env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_ALLOW_ASYNC_UNSAFE",)}
        self.env.update(
            CINDERLAB_VAR=str(self.var),
            DATABASE_URL=f"{PG}/{database}",
            REDIS_URL=f"redis://127.0.0.1:6379/{redis_db}",
            CINDERLAB_DEMO_PASSWORD=PASSWORD,
            CINDERLAB_ADMIN_PASSWORD=PASSWORD,
            DJANGO_SETTINGS_MODULE="portal.settings",
            PYTHONUNBUFFERED="1",
            OSAPI_VOLUME_WORKERS="2",
            AGENT_WORKERS="2",
        )
        self.procs: list[subprocess.Popen] = []
        self.output: list[str] = []

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(BASE / "manage.py"), *args],
            cwd=BASE,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )

    def start(self, *args: str, **env: str) -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, str(BASE / "manage.py"), *args],
            cwd=BASE,
            env={**self.env, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=child_preexec,
        )
        stream = proc.stdout
        threading.Thread(
            target=lambda: self.output.extend(line.decode(errors="replace") for line in stream),
            daemon=True,
        ).start()
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)
        for proc in self.procs:
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture
def shared():
    number, why = shared_services()
    if number is None:
        pytest.skip(f"the scale-out test needs the shared servers: {why}")
    database = f"scaleout_{uuid.uuid4().hex[:8]}"
    admin_sql(f'CREATE DATABASE "{database}"')
    root = settings.VAR_DIR / f"s-{uuid.uuid4().hex[:6]}"
    yield root, database, number
    admin_sql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{database}' AND pid <> pg_backend_pid()"
    )
    admin_sql(f'DROP DATABASE IF EXISTS "{database}"')
    redis.Redis(host="127.0.0.1", port=6379, db=number).flushdb()
    shutil.rmtree(root, ignore_errors=True)


def token(url: str, user: str) -> tuple[dict, str]:
    raw, project = keystone_token(url, user, PASSWORD)
    return {"X-Auth-Token": raw}, project


REGISTER_FAR_BACKEND = """
from agent.models import BackendConfig
from core.cinder.models import VolumeType, VolumeTypeExtraSpec
BackendConfig.objects.create(
    host="node3", backend_name="lvm-far", volume_backend_name="LVM_far",
    availability_zone="nova", lvm_type="thin", vg_size_gb=50,
)
far = VolumeType.objects.create(name="far", description="only node3 has it")
VolumeTypeExtraSpec.objects.create(volume_type=far, key="volume_backend_name", value="LVM_far")
"""


def test_an_agent_on_another_machine_gets_volumes_scheduled_to_it(shared):
    root, database, redis_db = shared
    first = Machine(root, "first", database, redis_db)
    second = Machine(root, "node3", database, redis_db)
    port = free_port()
    try:
        first.manage("migrate", "--noinput")
        first.manage("seed_demo")
        first.start("run", HOST="127.0.0.1", PORT=str(port), AGENT_HOSTS="node1,node2")
        wait_until(
            lambda: any("Cinderlab is up" in line for line in first.output),
            timeout=180,
            what="the first machine to be up",
        )
        url = f"http://127.0.0.1:{port}"

        # The second machine: its backend registered in the shared database, its agent
        # started with the same two URLs and nothing else in common.
        second.manage("shell", "-c", REGISTER_FAR_BACKEND)
        second.start("agent", "--host", "node3", "--backend", "lvm-far")

        def far_agent_up() -> bool:
            report = requests.get(f"{url}/healthz", timeout=10).json()
            return report.get("agents", {}).get("node3@lvm-far", {}).get("ok", False)

        wait_until(far_agent_up, timeout=90, what="node3's agent to report in")

        member, project = token(url, "demo")
        created = []
        for i in range(3):
            answer = requests.post(
                f"{url}/v3/{project}/volumes",
                json={"volume": {"size": 1, "name": f"far-{i}", "volume_type": "far"}},
                headers=member,
                timeout=30,
            )
            assert answer.status_code == 202, answer.text
            created.append(answer.json()["volume"]["id"])

        admin, _ = token(url, "admin")

        def shown(volume_id: str) -> dict | None:
            volume = requests.get(
                f"{url}/v3/{project}/volumes/{volume_id}", headers=admin, timeout=30
            ).json()["volume"]
            return volume if volume["status"] in ("available", "error") else None

        for volume_id in created:
            volume = wait_until(lambda v=volume_id: shown(v), timeout=120, what="a far volume")
            assert volume["status"] == "available"
            assert volume["os-vol-host-attr:host"] == "node3@lvm-far#LVM_far"
        # Made on the second machine's own disks, not the first's.
        on_second = {p.name for p in (second.var / "agents").rglob("*")}
        on_first = {p.name for p in (first.var / "agents").rglob("*")}
        for volume_id in created:
            assert any(volume_id in name for name in on_second), sorted(on_second)
            assert not any(volume_id in name for name in on_first)
    finally:
        second.stop()
        first.stop()
