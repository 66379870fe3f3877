"""Real processes for the tests: the scheduler, the agents and daphne.

They run against the test database and the test Redis, exactly as
``make run`` starts them, so integration and browser tests exercise the
real casts, the real channel layer and the real taskflow engines.
"""

import os
import socket
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.db import connection

from core.kernel.procs import child_preexec

BASE = Path(settings.BASE_DIR)


def database_url() -> str:
    """The test database (pytest-django renamed it) as a URL for child processes."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] or ""
    if s.get("PASSWORD"):
        auth += f":{s['PASSWORD']}"
    host = s.get("HOST") or "localhost"
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgres://{auth}@{host}{port}/{s['NAME']}"


def child_env(**extra: str) -> dict:
    env = dict(os.environ)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # only the browser tests' own process
    env.update(
        DATABASE_URL=database_url(),
        REDIS_URL=settings.REDIS_URL,
        CINDERLAB_VAR=str(settings.VAR_DIR),
        DJANGO_SETTINGS_MODULE="portal.settings",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def keystone_token(url: str, user: str, password: str, project: str = "demo") -> tuple[str, str]:
    """(token, project id): Keystone password authentication against a running server."""
    import requests

    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": user, "password": password}},
            },
            "scope": {"project": {"name": project}},
        }
    }
    answer = requests.post(f"{url}/identity/v3/auth/tokens", json=body, timeout=30)
    answer.raise_for_status()
    return answer.headers["X-Subject-Token"], answer.json()["token"]["project"]["id"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Processes:
    def __init__(self) -> None:
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs = settings.VAR_DIR / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, argv: list[str], **env: str) -> subprocess.Popen:
        log = open(self.logs / f"{name.replace(' ', '_')}.log", "ab")
        proc = subprocess.Popen(
            argv,
            cwd=BASE,
            env=child_env(**env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=child_preexec,
        )
        self.procs[name] = proc
        return proc

    def manage(self, name: str, *args: str, **env: str) -> subprocess.Popen:
        return self.start(name, [sys.executable, str(BASE / "manage.py"), *args], **env)

    def stop(self, name: str, timeout: float = 15.0) -> None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        stop_group(proc, timeout)

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name)

    def log(self, name: str) -> str:
        path = self.logs / f"{name.replace(' ', '_')}.log"
        return path.read_text(errors="replace") if path.exists() else ""


def stop_group(proc: subprocess.Popen, timeout: float = 15.0) -> None:
    import signal

    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout)
            break
        except subprocess.TimeoutExpired:
            continue
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # forked horses left behind
    except ProcessLookupError:
        pass
