"""`make run`'s launcher: healthy on a fresh var/, and nothing left after a stop."""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import uuid

import psutil
import pytest
from django.conf import settings

from core.kernel.procs import child_preexec
from tests.cluster import BASE, free_port
from tests.waiting import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def fresh_var():
    # Short path: the embedded Redis listens on a unix socket inside it.
    path = settings.VAR_DIR / f"l-{uuid.uuid4().hex[:6]}"
    yield path
    shutil.rmtree(path, ignore_errors=True)


def launcher_env(var) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env.update(
        CINDERLAB_VAR=str(var),
        PORT=str(free_port()),
        HOST="127.0.0.1",
        CINDERLAB_DEMO_PASSWORD="demo-password",
        CINDERLAB_ADMIN_PASSWORD="admin-pw-1",
    )
    return env


def health(port: str):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
    except OSError:
        return None, None


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_run_serves_healthz_and_a_stop_leaves_no_process(fresh_var, how):
    env = launcher_env(fresh_var)
    manage = [sys.executable, str(BASE / "manage.py")]
    for step in (["migrate", "--noinput"], ["seed_demo"]):
        subprocess.run(manage + step, cwd=BASE, env=env, check=True, capture_output=True)
    launcher = subprocess.Popen(
        manage + ["run"],
        cwd=BASE,
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        preexec_fn=child_preexec,
    )
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: lines.extend(line.decode(errors="replace") for line in launcher.stdout),
        daemon=True,
    )
    reader.start()
    try:
        wait_until(
            lambda: any("Cinderlab is up" in line for line in lines),
            timeout=90,
            what="make run to say it is up",
        )
        status, report = health(env["PORT"])
        assert status == 200
        assert set(report["agents"]) == {"node1@lvm-thick", "node1@lvm-thin", "node2@lvm-gold"}
        assert report["redis"]["ok"] and report["scheduler"]["ok"]
        started = psutil.Process(launcher.pid).children(recursive=True)
        names = " ".join(" ".join(p.cmdline()) for p in started)
        assert "redis-server" in names and "daphne" in names and "agent" in names

        if how == "ctrl-c":
            os.killpg(launcher.pid, signal.SIGINT)  # what a terminal sends
        else:
            launcher.send_signal(signal.SIGTERM)
        launcher.wait(timeout=60)
        reader.join(timeout=10)
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
    assert any(line.startswith("Stopped.") for line in lines)
    gone, alive = psutil.wait_procs(started, timeout=10)
    assert alive == []
    # Nor anything started later (work horses fork per job): no process left with this var/.
    wait_until(lambda: not started_from(fresh_var), timeout=10, what="every process to end")
    assert launcher.returncode == 0


def started_from(var) -> list[psutil.Process]:
    """Processes whose environment names this var/ (every child inherits it)."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get("CINDERLAB_VAR") == str(var):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return found
