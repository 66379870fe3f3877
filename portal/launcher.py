"""What ``make run`` runs: Redis (if needed), daphne, the scheduler and the agents.

1. Start the embedded Redis under var/ unless REDIS_URL names one.
2. Start daphne on HOST:PORT, ``manage.py scheduler`` and one
   ``manage.py agent`` per demo host, each in its own process group.
3. Wait for /healthz to answer 200, then print the URL and the credentials.
4. On SIGINT or SIGTERM (or if any child dies), stop every child: SIGTERM to
   each process group, a grace period, then SIGKILL; Redis last.
"""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from core.kernel.procs import child_preexec
from portal.embedded_redis import EmbeddedRedis

GRACE_SECONDS = 10.0


class Launcher:
    def __init__(self, base_dir: Path, var_dir: Path, host: str, port: int):
        self.base_dir = base_dir
        self.var_dir = var_dir
        self.host = host
        self.port = port
        self.children: list[tuple[str, subprocess.Popen]] = []
        self.redis: EmbeddedRedis | None = None
        self.stopping = False

    def manage(self, *args: str) -> list[str]:
        return [sys.executable, str(self.base_dir / "manage.py"), *args]

    def spawn(self, name: str, argv: list[str], env: dict) -> None:
        process = subprocess.Popen(
            argv, cwd=self.base_dir, env=env, start_new_session=True, preexec_fn=child_preexec
        )
        self.children.append((name, process))

    def start(self, agent_commands: list[list[str]]) -> None:
        env = dict(os.environ)
        if not env.get("REDIS_URL"):
            self.redis = EmbeddedRedis(self.var_dir)
            self.redis.start()
            env["REDIS_URL"] = self.redis.url
            print(f"embedded Redis: {self.redis.url}", flush=True)
        self.spawn(
            "daphne",
            [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                self.host,
                "-p",
                str(self.port),
                "portal.asgi:application",
            ],
            env,
        )
        self.spawn("scheduler", self.manage("scheduler"), env)
        for command in agent_commands:
            self.spawn(f"agent {command[2]}", self.manage(*command), env)

    def wait_healthy(self, timeout: float = 90.0) -> bool:
        url = f"http://{self.host}:{self.port}/healthz"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.stopping:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return True
            except OSError:
                pass
            if self.dead_child():
                return False
            time.sleep(0.25)
        return False

    def dead_child(self) -> str | None:
        for name, process in self.children:
            if process.poll() is not None:
                return name
        return None

    def stop(self) -> None:
        self.stopping = True
        for _, process in self.children:
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + GRACE_SECONDS
        for _, process in self.children:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for _, process in self.children:
            _signal_group(process, signal.SIGKILL)  # horses and stragglers
            process.wait()
        if self.redis is not None:
            self.redis.stop()


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def main(base_dir: Path, var_dir: Path, agent_commands: list[list[str]]) -> int:
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    launcher = Launcher(base_dir, var_dir, host, port)

    def on_signal(signum, frame):
        launcher.stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    code = 0
    try:
        launcher.start(agent_commands)
        if launcher.wait_healthy():
            print(f"\nCinderlab is up: http://{host}:{port}/", flush=True)
            creds = var_dir / "demo-credentials"
            where = f" (passwords in {creds})" if creds.exists() else ""
            print(f"Log in as 'demo' (member of project demo) or 'admin'{where}.", flush=True)
            print("Press Ctrl-C to stop.", flush=True)
        elif not launcher.stopping:
            print(
                f"Cinderlab did not become healthy ({launcher.dead_child() or 'timeout'}); "
                "see the output above.",
                file=sys.stderr,
                flush=True,
            )
            code = 1
            launcher.stopping = True
        while not launcher.stopping:
            dead = launcher.dead_child()
            if dead:
                print(f"{dead} exited; stopping everything.", file=sys.stderr, flush=True)
                code = 1
                break
            time.sleep(0.25)
    finally:
        print("Stopping…", flush=True)
        launcher.stop()
        print("Stopped.", flush=True)
    return code
