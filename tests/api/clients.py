"""Driving the real clients: the `cinder` CLI (python-cinderclient) as a subprocess."""

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

CINDER = str(Path(sys.executable).with_name("cinder"))


def parse_table(text: str) -> list[list[str]]:
    """prettytable output as rows of cells (the header row first)."""
    rows = []
    for line in text.splitlines():
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


@dataclass
class Cinder:
    """The `cinder` command with one user's credentials (Keystone password or noauth)."""

    auth_args: list[str]

    @classmethod
    def keystone(cls, server: str, username: str, password: str, project: str) -> "Cinder":
        return cls(
            [
                "--os-auth-type", "password",
                "--os-auth-url", f"{server}/identity/v3",
                "--os-username", username,
                "--os-password", password,
                "--os-project-name", project,
                "--os-user-domain-name", "Default",
                "--os-project-domain-name", "Default",
            ]
        )  # fmt: skip

    @classmethod
    def noauth(cls, server: str, username: str, project_id: str) -> "Cinder":
        return cls(
            [
                "--os-auth-type", "noauth",
                "--os-endpoint", f"{server}/v3",
                "--os-user-id", username,
                "--os-project-id", project_id,
            ]
        )  # fmt: skip

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "CINDER_"))}
        result = subprocess.run(
            [CINDER, *self.auth_args, *args],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"cinder {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result

    def properties(self, *args: str) -> dict[str, str]:
        """A `Property | Value` table as a dict."""
        rows = parse_table(self.run(*args).stdout)
        return {row[0]: row[1] for row in rows[1:] if len(row) == 2 and row[0]}

    def rows(self, *args: str) -> list[dict[str, str]]:
        """A list table as dicts keyed by column header."""
        rows = parse_table(self.run(*args).stdout)
        if not rows:
            return []
        header = rows[0]
        return [dict(zip(header, row, strict=False)) for row in rows[1:]]
