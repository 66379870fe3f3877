"""``make conformance``: Tempest's ``tempest.api.volume`` against Cinderlab.

1. Install Tempest (``TEMPEST_VERSION``, from PyPI) into ``.venv-tempest``, once.
2. Prepare a private var/ (``CINDERLAB_VAR``) and port: migrate, seed_demo, and
   provision_accounts (several projects, each with a member, a reader and an admin).
3. Start the stack as ``make run`` does (``manage.py run``), until it says it is up.
4. Write a Tempest workspace: ``tempest.conf`` (:mod:`conformance.tempest_conf`) and
   the accounts file.
5. ``tempest run --regex '^tempest\\.api\\.volume'``, excluding what ``conformance/skips``
   lists (each entry with its reason).
6. Stop the stack, print the counts, and exit non-zero when any test failed.

``CONFORMANCE_REGEX`` narrows the run (for work on one group of tests);
``CONFORMANCE_KEEP=1`` keeps the var/ and the workspace for a look afterwards (a failed
run always keeps them).
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from conformance import tempest_conf  # noqa: E402

BASE = HERE.parent
TEMPEST_VERSION = "47.0.0"
VENV = BASE / ".venv-tempest"
SKIPS = HERE / "skips"
REGEX = os.environ.get("CONFORMANCE_REGEX", r"^tempest\.api\.volume")
PROJECTS = 6  # two test workers, each holding up to two projects at once, and spares


def tempest_venv() -> Path:
    """``.venv-tempest`` with the pinned Tempest, created or upgraded when needed."""
    marker = VENV / f".tempest-{TEMPEST_VERSION}"
    if not marker.exists():
        python = os.environ.get("PYTHON") or sys.executable
        subprocess.run([python, "-m", "venv", "--clear", str(VENV)], check=True)
        pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, "--upgrade", "pip"], check=True)
        subprocess.run([*pip, f"tempest=={TEMPEST_VERSION}"], check=True)
        marker.touch()
    return VENV / "bin"


def write_workspace(bin_dir: Path, workspace: Path) -> None:
    """What ``tempest init`` writes for stestr, without registering the workspace in
    the user's ~/.tempest."""
    package = subprocess.run(
        [
            str(bin_dir / "python"),
            "-c",
            "import os, tempest; print(os.path.dirname(tempest.__file__))",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (workspace / "logs").mkdir(parents=True)
    (workspace / ".stestr.conf").write_text(
        f"[DEFAULT]\ntest_path={package}/test_discover\ntop_dir={Path(package).parent}\n"
        "group_regex=([^\\.]*\\.)*\n"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    """A Cinderlab started as ``make run`` starts it, on its own var/ and port."""

    def __init__(self, var: Path, port: int):
        self.var = var
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None
        self.output: list[str] = []

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env.update(CINDERLAB_VAR=str(self.var), HOST="127.0.0.1", PORT=str(self.port))
        env.setdefault("PYTHONUNBUFFERED", "1")
        return env

    def manage(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, str(BASE / "manage.py"), *args],
            cwd=BASE,
            env=self.env(),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def start(self, timeout: float = 180) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(BASE / "manage.py"), "run"],
            cwd=BASE,
            env=self.env(),
            start_new_session=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not any("Cinderlab is up" in line for line in self.output):
            if self.process.poll() is not None or time.monotonic() > deadline:
                sys.stdout.write("".join(self.output))
                raise SystemExit("conformance: the stack did not come up")
            time.sleep(0.5)

    def _read(self) -> None:
        for line in self.process.stdout:
            self.output.append(line)

    def stop(self) -> None:
        """Ctrl-C to the launcher's process group, as a terminal sends it."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(90)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def run_tempest(bin_dir: Path, workspace: Path) -> tuple[int, str]:
    """``tempest run`` in the workspace, its output shown as it comes and kept."""
    command = [
        str(bin_dir / "tempest"),
        "run",
        "--regex",
        REGEX,
        "--exclude-list",
        str(SKIPS),
        "--concurrency",
        os.environ.get("CONFORMANCE_CONCURRENCY", "2"),
    ]
    # stestr starts its workers with ${PYTHON}: Tempest's own interpreter, not make's.
    env = dict(
        os.environ, TEMPEST_CONFIG_DIR=str(workspace / "etc"), PYTHON=str(bin_dir / "python")
    )
    process = subprocess.Popen(
        command, cwd=workspace, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines = []
    for line in process.stdout:
        sys.stdout.write(line)
        lines.append(line)
    return process.wait(), "".join(lines)


def totals(output: str) -> dict[str, int]:
    """The counts from Tempest's closing summary ("- Passed: N" ...)."""
    found = {}
    for name in ("Passed", "Skipped", "Failed"):
        match = re.search(rf"^ - {name}: (\d+)$", output, re.MULTILINE)
        found[name.lower()] = int(match.group(1)) if match else 0
    return found


def main() -> int:
    bin_dir = tempest_venv()
    root = BASE / "var" / "conformance"
    shutil.rmtree(root, ignore_errors=True)
    var, workspace = root / "stack", root / "tempest"
    var.mkdir(parents=True)
    stack = Stack(var, free_port())
    stack.manage("migrate", "--noinput")
    stack.manage("seed_demo")
    accounts = root / "accounts.yaml"
    stack.manage(
        "provision_accounts", f"--projects={PROJECTS}", "--prefix=tempest", f"--output={accounts}"
    )
    write_workspace(bin_dir, workspace)
    tempest_conf.write(workspace / "etc" / "tempest.conf", stack.url, accounts, workspace)
    try:
        stack.start()
        code, output = run_tempest(bin_dir, workspace)
    finally:
        stack.stop()
    counts = totals(output)
    print(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
    failed = bool(code or counts["failed"] or not counts["passed"])
    if failed or os.environ.get("CONFORMANCE_KEEP"):
        print(f"The stack's var/ and Tempest's workspace (logs, tempest.conf) are in {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
