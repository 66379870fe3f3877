"""Running commands: what ``processutils.execute`` behind ``cinder-rootwrap`` is to Cinder.

Every command first passes the :class:`~agent.storage.allowlist.Allowlist`. A refused command is
logged, recorded, and raised as :class:`CommandNotAllowed` with rootwrap's exit code 99. An
allowed one is executed by a subclass of :class:`BaseRunner`: :class:`RealRunner` runs it with
``subprocess`` (executables looked up in rootwrap's ``exec_dirs``), while
``agent.storage.simulated.SimulatedRunner`` answers it from a simulated volume group. Both record
every command they ran (``CommandResult.to_dict()``) into an optional sink, and raise
:class:`ProcessExecutionError` carrying the result on a non-zero exit.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from agent.storage.allowlist import Allowlist, Invocation, Refused

LOG = logging.getLogger(__name__)

RC_UNAUTHORIZED = 99  # oslo.rootwrap: no filter matched
RC_NOEXECFOUND = 96  # oslo.rootwrap: filter matched, executable missing
# rootwrap.conf's exec_dirs, in its order.
DEFAULT_EXEC_DIRS = ("/sbin", "/usr/sbin", "/bin", "/usr/bin", "/usr/local/bin", "/usr/local/sbin")

Sink = Callable[[dict], object]


@dataclass
class CommandResult:
    argv: list[str]
    stdout: str
    stderr: str
    exit_code: int
    duration_ms: float

    @property
    def command_line(self) -> str:
        """The argv as a shell would need it typed (``--config 'activation { ... }'``)."""
        return shlex.join(self.argv)

    def to_dict(self) -> dict:
        return asdict(self)


class ProcessExecutionError(Exception):
    """A command exited non-zero; worded like oslo.concurrency's error of the same name."""

    description = "Unexpected error while running command."

    def __init__(self, result: CommandResult) -> None:
        self.result = result
        self.cmd = result.command_line
        self.exit_code = result.exit_code
        self.stdout = result.stdout
        self.stderr = result.stderr
        super().__init__(
            f"{self.description}\nCommand: {self.cmd}\nExit code: {self.exit_code}\n"
            f"Stdout: {self.stdout!r}\nStderr: {self.stderr!r}"
        )


class Runner(Protocol):
    """What the driver, brick and volume utilities need: run an argv, get its result, or a
    :class:`ProcessExecutionError` on a non-zero exit."""

    def run(self, argv: list[str]) -> CommandResult: ...

    def remote_path(self, device: str) -> str: ...


class CommandNotAllowed(ProcessExecutionError):
    """The allowlist refused the command; it never ran."""

    description = "Command refused by the allowlist."

    def __init__(self, result: CommandResult, reason: str) -> None:
        self.reason = reason
        super().__init__(result)


# -------------------------------------------------------------------------------- runners


class BaseRunner:
    """Checks, runs, records. Subclasses say how a command is executed."""

    def __init__(
        self, *, allowlist: Allowlist | None = None, sink: Sink | list | None = None
    ) -> None:
        self.allowlist = allowlist or Allowlist()
        self.sink: Sink | None = sink.append if isinstance(sink, list) else sink
        self._captures: list[list[CommandResult]] = []

    def run(self, argv: list[str]) -> CommandResult:
        argv = [str(arg) for arg in argv]
        started = time.perf_counter()
        try:
            invocation = self.allowlist.check(argv)
        except Refused as refusal:
            result = CommandResult(
                argv,
                "",
                f"Unauthorized command: {shlex.join(argv)} (no filter matched)\n",
                RC_UNAUTHORIZED,
                _elapsed_ms(started),
            )
            LOG.warning("Refused command %s: %s", result.command_line, refusal)
            self._record(result)
            raise CommandNotAllowed(result, str(refusal)) from None
        LOG.debug("Running cmd: %s", shlex.join(argv))
        stdout, stderr, exit_code = self._execute(invocation)
        result = CommandResult(argv, stdout, stderr, exit_code, _elapsed_ms(started))
        LOG.debug(
            "CMD %r returned: %s in %.1fms", result.command_line, exit_code, result.duration_ms
        )
        self._record(result)
        if exit_code != 0:
            raise ProcessExecutionError(result)
        return result

    @contextlib.contextmanager
    def capture(self) -> Iterator[list[CommandResult]]:
        """Collect every command run inside the block (besides the sink)."""
        captured: list[CommandResult] = []
        self._captures.append(captured)
        try:
            yield captured
        finally:
            self._captures.remove(captured)

    def _record(self, result: CommandResult) -> None:
        for captured in self._captures:
            captured.append(result)
        if self.sink is not None:
            try:
                self.sink(result.to_dict())
            except Exception:  # the command has run; a recording fault must not hide that
                LOG.exception("Could not record command %s", result.command_line)

    def _execute(self, invocation: Invocation) -> tuple[str, str, int]:
        raise NotImplementedError

    def remote_path(self, device: str) -> str:
        """Where another backend's commands on this machine reach ``device`` (Cinder attaches
        it over iSCSI for a migration's copy): the device itself."""
        return device


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


class RealRunner(BaseRunner):
    """Runs allowed commands with ``subprocess``, executables looked up in ``exec_dirs`` as
    rootwrap does. ``root_helper`` (e.g. ``["sudo"]``) prefixes every command when the agent
    does not run as root. LC_ALL=C comes from the ``env LC_ALL=C`` in the argv, as in Cinder."""

    def __init__(
        self,
        *,
        root_helper: Sequence[str] = (),
        exec_dirs: Sequence[str | Path] = DEFAULT_EXEC_DIRS,
        timeout: float | None = None,
        allowlist: Allowlist | None = None,
        sink: Sink | list | None = None,
    ) -> None:
        super().__init__(allowlist=allowlist, sink=sink)
        self.root_helper = list(root_helper)
        self.exec_dirs = [Path(d) for d in exec_dirs]
        self.timeout = timeout

    def which(self, name: str) -> str | None:
        for directory in self.exec_dirs:
            candidate = directory / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
        return None

    def command_for(self, argv: list[str]) -> list[str]:
        """The exact argv handed to the operating system for ``argv``."""
        invocation = self.allowlist.check(argv)
        return self._resolved(invocation)

    def _resolved(self, invocation: Invocation) -> list[str]:
        full = list(invocation.argv)
        for position in invocation.exec_positions:
            found = self.which(full[position])
            if found is None:
                raise FileNotFoundError(full[position])
            full[position] = found
        return [*self.root_helper, *full]

    def _execute(self, invocation: Invocation) -> tuple[str, str, int]:
        try:
            full = self._resolved(invocation)
        except FileNotFoundError as missing:
            return "", f"Executable not found: {missing.args[0]}\n", RC_NOEXECFOUND
        try:
            done = subprocess.run(
                full,
                capture_output=True,
                text=True,
                errors="replace",
                stdin=subprocess.DEVNULL,
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as expired:
            return _text(expired.stdout), _text(expired.stderr) + "Timed out\n", -9
        return done.stdout, done.stderr, done.returncode


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else value.decode(errors="replace")


__all__ = [
    "BaseRunner",
    "CommandNotAllowed",
    "CommandResult",
    "ProcessExecutionError",
    "RealRunner",
    "Runner",
]
