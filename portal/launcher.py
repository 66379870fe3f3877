"""What ``make run`` runs: supervisord, keeping Redis (if embedded), daphne, the scheduler
and the agents up.

1. Write supervisord's configuration (:mod:`portal.supervision`): one program per service.
2. Start supervisord in a session of its own, dying with this process; it starts Redis.
3. Once Redis answers, have it start every other program.
4. Wait for /healthz to answer 200, then print the URL and the credentials.
5. On SIGINT or SIGTERM, stop supervisord: it stops each program (the service first, its
   whole process group after a grace period) and exits. A program that dies meanwhile is
   started again by supervisord, and the rest of the cloud keeps serving.
"""

import os
import signal
import subprocess
import sys
import time
import urllib.request
import xmlrpc.client
from pathlib import Path

import psutil

from core.kernel.procs import child_preexec
from portal import supervision
from portal.embedded_redis import EmbeddedRedis
from portal.supervision import Program


class Launcher:
    def __init__(self, base_dir: Path, var_dir: Path, host: str, port: int, web_workers: int = 1):
        self.base_dir = base_dir
        self.var_dir = var_dir
        self.host = host
        self.port = port
        self.web_workers = web_workers
        self.supervisord: subprocess.Popen | None = None
        self.redis = None if os.environ.get("REDIS_URL") else EmbeddedRedis(var_dir)
        self.stopping = False

    def manage(self, *args: str) -> list[str]:
        return [sys.executable, str(self.base_dir / "manage.py"), *args]

    def programs(self, agent_commands: list[list[str]]) -> list[Program]:
        # Several daphne processes on one socket, as Cinder runs osapi_volume_workers: each
        # runs Django's synchronous views on one thread, so one process would serialise them.
        daphne = [sys.executable, "-m", "daphne", "--fd", "0", "portal.asgi:application"]
        host = f"[{self.host}]" if ":" in self.host else self.host
        programs = [
            Program(
                "daphne", daphne, processes=self.web_workers, socket=f"tcp://{host}:{self.port}"
            ),
            Program("scheduler", self.manage("scheduler")),
        ]
        for command in agent_commands:
            programs.append(Program(f"{command[0]}-{command[2]}", self.manage(*command)))
        if self.redis is not None:
            argv = [sys.executable, "-m", "portal.embedded_redis", str(self.var_dir)]
            programs.insert(0, Program("redis", argv, priority=10))
        return programs

    def start(self, agent_commands: list[list[str]]) -> None:
        env = dict(os.environ)
        if self.redis is not None:
            env["REDIS_URL"] = self.redis.url
            print(f"embedded Redis: {self.redis.url}", flush=True)
        programs = self.programs(agent_commands)
        conf = supervision.write_config(self.var_dir, programs, self.base_dir, autostart=False)
        self.supervisord = subprocess.Popen(
            [sys.executable, "-m", "supervisor.supervisord", "-c", str(conf)],
            cwd=self.base_dir,
            env=env,
            start_new_session=True,
            preexec_fn=child_preexec,
        )
        self.start_programs(programs)

    def start_programs(self, programs: list[Program]) -> None:
        """Redis first (the others cannot start without it), then every other program."""
        deadline = time.monotonic() + 60
        while not self.stopping and time.monotonic() < deadline:
            try:
                server = supervision.rpc(self.var_dir).supervisor
                if self.redis is not None:
                    server.startProcess("redis", True)
                    while not self.redis.ping() and time.monotonic() < deadline:
                        time.sleep(0.05)
                server.startAllProcesses(False)
                return
            except OSError:
                time.sleep(0.1)  # supervisord is not listening yet
                continue
            except xmlrpc.client.Fault as fault:
                print(f"supervisord: {fault.faultString}", file=sys.stderr, flush=True)
                return
            if self.supervisord.poll() is not None:
                return

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
            if self.supervisord is None or self.supervisord.poll() is not None:
                return False
            time.sleep(0.25)
        return False

    def stop(self) -> None:
        self.stopping = True
        if self.supervisord is None or self.supervisord.poll() is not None:
            return
        self.supervisord.send_signal(signal.SIGTERM)
        try:
            self.supervisord.wait(supervision.GRACE_SECONDS * 3)
        except subprocess.TimeoutExpired:
            for process in psutil.Process(self.supervisord.pid).children(recursive=True):
                process.kill()
            self.supervisord.kill()
            self.supervisord.wait()


def main(
    base_dir: Path, var_dir: Path, agent_commands: list[list[str]], web_workers: int = 1
) -> int:
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    launcher = Launcher(base_dir, var_dir, host, port, web_workers)

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
            print("A service that dies is started again. Press Ctrl-C to stop.", flush=True)
        elif not launcher.stopping:
            print(
                "Cinderlab did not become healthy; see the output above.",
                file=sys.stderr,
                flush=True,
            )
            code = 1
            launcher.stopping = True
        while not launcher.stopping:
            if launcher.supervisord.poll() is not None:
                print("supervisord exited; stopping.", file=sys.stderr, flush=True)
                code = 1
                break
            time.sleep(0.25)
    finally:
        print("Stopping…", flush=True)
        launcher.stop()
        print("Stopped.", flush=True)
    return code
