"""How an LVM command answers: its messages, its exit code, its sizes.

LVM indents every message by two spaces, exits with the codes of lvm2's ``tools/errors.h`` and
shows sizes as "208.00 MiB". The simulated volume group and the simulated runner both speak
this way, so it lives here, apart from either.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# lvm2 tools/errors.h
ECMD_FAILED = 5
EINVALID_CMD_LINE = 3


def display_size(size_bytes: float) -> str:
    """LVM's human size: two decimals and the largest binary unit that fits ("208.00 MiB")."""
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
    value = float(size_bytes)
    unit = 0
    while unit < len(units) - 1 and value >= 1024:
        value /= 1024
        unit += 1
    return f"{value:.2f} {units[unit]}"


@dataclass
class Reply:
    """What one LVM command printed and how it exited. LVM indents every message by two spaces."""

    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    exit_code: int = 0

    def say(self, message: str) -> None:
        self.stdout.append(f"  {message}")

    def warn(self, message: str) -> None:
        self.stderr.append(f"  {message}")

    def fail(self, message: str, exit_code: int = ECMD_FAILED) -> Reply:
        self.warn(message)
        self.exit_code = exit_code
        return self

    @property
    def ok(self) -> bool:
        return self.exit_code == 0
