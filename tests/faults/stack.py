"""A whole Cinderlab started the way ``make run`` starts it, for the fault suite to break.

It has its own var/ (SQLite, the embedded Redis, the simulated volume groups) and port,
and runs ``manage.py run``: supervisord behind the launcher, supervising Redis, daphne,
the scheduler and the agents. The suite kills its processes with real signals, drives
it through the REST API, reads its database directly, and checks what is left.
"""

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests
from django.conf import settings

from core.kernel.procs import child_preexec
from portal import supervision
from tests.cluster import BASE, free_port, keystone_token
from tests.waiting import wait_until

PASSWORD = "fault-suite-password"
# Statuses that mean work is still under way: none may be left once a fault settles.
TRANSITIONAL = {"creating", "deleting", "downloading", "error_managing_deleting"}


class Stack:
    def __init__(self) -> None:
        # Short: the embedded Redis listens on a unix socket inside it.
        self.var = Path(settings.VAR_DIR) / f"f-{uuid.uuid4().hex[:6]}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.launcher: subprocess.Popen | None = None
        self.output: list[str] = []
        self.token_cache: dict[str, tuple[str, str]] = {}

    # -- life ------------------------------------------------------------------------

    def env(self) -> dict:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
        }
        env.update(
            CINDERLAB_VAR=str(self.var),
            HOST="127.0.0.1",
            PORT=str(self.port),
            CINDERLAB_DEMO_PASSWORD=PASSWORD,
            CINDERLAB_ADMIN_PASSWORD=PASSWORD,
            AGENT_WORKERS="2",
            OSAPI_VOLUME_WORKERS="2",
            PYTHONUNBUFFERED="1",
        )
        return env

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(BASE / "manage.py"), *args],
            cwd=BASE,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=180,
            check=check,
        )

    def prepare(self) -> None:
        self.manage("migrate", "--noinput")
        self.manage("seed_demo")
        self.shell(  # the suite creates many volumes: no quota stands in its way
            "from core.cinder import quota\nfrom core.cinder.models import Project\n"
            "demo = Project.objects.get(name='demo').pk\n"
            "for resource in ('volumes', 'gigabytes'):\n"
            "    quota.set_limit(demo, resource, -1)\n"
        )

    def start(self) -> None:
        """``make run``'s last step: the launcher, until it says the cloud is up."""
        self.output = []
        self.launcher = subprocess.Popen(
            [sys.executable, str(BASE / "manage.py"), "run"],
            cwd=BASE,
            env=self.env(),
            start_new_session=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            preexec_fn=child_preexec,
        )
        stream = self.launcher.stdout
        threading.Thread(
            target=lambda: self.output.extend(line.decode(errors="replace") for line in stream),
            daemon=True,
        ).start()
        wait_until(
            lambda: any("Cinderlab is up" in line for line in self.output),
            timeout=120,
            what="the stack to come up",
        )

    def interrupt(self, timeout: float = 90) -> int:
        """Ctrl-C, as a terminal sends it to the launcher's process group."""
        os.killpg(self.launcher.pid, signal.SIGINT)
        return self.launcher.wait(timeout)

    def stop(self) -> None:
        if self.launcher is not None and self.launcher.poll() is None:
            try:
                self.interrupt()
            except subprocess.TimeoutExpired:
                os.killpg(self.launcher.pid, signal.SIGKILL)
        for process in self.leftovers():
            process.kill()

    def leftovers(self) -> list[psutil.Process]:
        """Processes still running with this stack's var/ (every child inherits it)."""
        found = []
        for process in psutil.process_iter():
            try:
                if process.environ().get("CINDERLAB_VAR") == str(self.var):
                    found.append(process)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                pass
        return found

    # -- processes -----------------------------------------------------------------------

    def processes(self) -> dict[str, dict]:
        return {p["name"]: p for p in supervision.processes(self.var) or []}

    def pid(self, program: str) -> int:
        return wait_until(
            lambda: self.processes().get(program, {}).get("pid"),
            timeout=60,
            what=f"{program} to run",
        )

    def kill(self, program: str) -> int:
        """kill -9 of a supervised program's main process; returns its pid."""
        pid = self.pid(program)
        self.kill_pid(pid)
        return pid

    @staticmethod
    def kill_pid(pid: int) -> None:
        os.kill(pid, signal.SIGKILL)

    def rpc(self):
        """supervisord's XML-RPC interface (stop and start programs as an operator would)."""
        return supervision.rpc(self.var)

    def workers(self, program: str) -> list[int]:
        """The worker processes of an agent's pool: children of its fork server."""
        agent = psutil.Process(self.pid(program))
        return [worker.pid for child in agent.children() for worker in child.children()]

    def healthy(self) -> bool:
        try:
            return requests.get(f"{self.url}/healthz", timeout=3).status_code == 200
        except requests.RequestException:
            return False

    def wait_healthy(self, timeout: float = 90) -> None:
        wait_until(self.healthy, timeout=timeout, what="the stack to be healthy again")

    # -- the API -------------------------------------------------------------------------

    def token(self, user: str = "demo") -> tuple[str, str]:
        """(token, project id) for a demo user, scoped to project demo."""
        if user not in self.token_cache:
            self.token_cache[user] = keystone_token(self.url, user, PASSWORD)
        return self.token_cache[user]

    def call(self, method: str, path: str, body=None, user: str = "demo") -> requests.Response:
        token, project = self.token(user)
        return requests.request(
            method,
            f"{self.url}/v3/{project}/{path}",
            json=body,
            headers={"X-Auth-Token": token, "OpenStack-API-Version": "volume 3.71"},
            timeout=30,
        )

    def browse(self, user: str, path: str) -> str:
        """A page as ``user`` sees it, logged in through the login form."""
        session = requests.Session()
        form = session.get(f"{self.url}/accounts/login/", timeout=30)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        session.post(
            f"{self.url}/accounts/login/",
            data={"username": user, "password": PASSWORD, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{self.url}/accounts/login/"},
            timeout=30,
        )
        return session.get(f"{self.url}{path}", headers={"Accept": "text/html"}, timeout=30).text

    def create(self, tag: str, size: int = 1, **fields) -> requests.Response:
        volume = {"size": size, "metadata": {"fault": tag}, **fields}
        return self.call("POST", "volumes", {"volume": volume})

    # -- the database ----------------------------------------------------------------------

    def query(self, sql: str, *args) -> list[tuple]:
        with sqlite3.connect(self.var / "cinderlab.sqlite3", timeout=30) as db:
            return db.execute(sql, args).fetchall()

    def volumes(self, tag: str) -> dict[str, str]:
        """id -> status of the volumes a test tagged."""
        rows = self.query("SELECT id, status, metadata FROM volumes_volume WHERE NOT deleted")
        return {
            str(uuid.UUID(vid)): status
            for vid, status, metadata in rows
            if json.loads(metadata or "{}").get("fault") == tag
        }

    def messages(self) -> set[str]:
        """Volumes (and snapshots) the users were told something about."""
        rows = self.query("SELECT resource_uuid FROM volumes_usermessage")
        return {str(uuid.UUID(row[0])) for row in rows if row[0]}

    def shell(self, code: str) -> str:
        return self.manage("shell", "-c", code).stdout

    def quota_check(self) -> subprocess.CompletedProcess:
        return self.manage("quota_check", check=False)


@dataclass
class Load:
    """Creates posted at a steady rate from a thread, every answer kept."""

    stack: Stack
    tag: str
    count: int
    rate: float
    answers: list = field(default_factory=list)  # (status or exception name, volume id)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self.run, daemon=True)

    def start(self) -> "Load":
        self.thread.start()
        return self

    def run(self) -> None:
        start = time.monotonic()
        for i in range(self.count):
            time.sleep(max(0.0, start + i / self.rate - time.monotonic()))
            try:
                answer = self.stack.create(self.tag)
            except requests.RequestException as error:
                self.answers.append((type(error).__name__, None))
                continue
            volume = answer.json().get("volume", {}) if answer.status_code == 202 else {}
            self.answers.append((answer.status_code, volume.get("id")))

    def join(self, timeout: float = 120) -> "Load":
        self.thread.join(timeout)
        return self

    @property
    def accepted(self) -> set[str]:
        return {vid for status, vid in self.answers if status == 202}

    @property
    def statuses(self) -> set:
        return {status for status, _ in self.answers}


def settled(stack: Stack, tag: str, timeout: float = 120) -> dict[str, str]:
    """Wait until none of the tagged volumes is still under way; return their statuses."""

    def done():
        volumes = stack.volumes(tag)
        return volumes if not set(volumes.values()) & TRANSITIONAL else None

    return wait_until(done, timeout=timeout, what="every volume to settle")


def assert_nothing_lost(stack: Stack, load: Load, volumes: dict[str, str]) -> None:
    """What every fault must leave: each accepted volume available or error with a user
    message, nothing refused left behind, quota exact."""
    assert set(volumes) == load.accepted  # refused requests left no row
    for volume_id, status in volumes.items():
        assert status in ("available", "error"), (volume_id, status)
        if status == "error":
            assert volume_id in stack.messages(), f"{volume_id} is error without a message"
    check = stack.quota_check()
    assert check.returncode == 0, check.stdout + check.stderr


def restarted(stack: Stack, program: str, old_pid: int) -> None:
    """Wait until supervisord has started ``program`` again (a new pid, running)."""
    wait_until(
        lambda: (
            stack.processes().get(program, {}).get("pid") not in (None, old_pid)
            and stack.processes()[program]["state"] == "RUNNING"
        ),
        timeout=60,
        what=f"supervisord to start {program} again",
    )
