"""One volume group's LVM commands: what ``cinder/brick/local_dev/lvm.py`` is to Cinder.

An :class:`LVM` knows its group and the group's thin pool (``<vg>-pool``) and runs the LVM
commands the driver needs through a runner: the queries (``lvm version``, ``vgs``, ``pvs``,
``lvs``, ``lvdisplay``) and the changes (``lvcreate``, ``lvextend``, ``lvchange``,
``lvremove``, ``lvconvert --merge``, ``lvrename``), with the command lines brick uses. A failed
command surfaces as :class:`ProcessExecutionError` carrying LVM's own words.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time

from agent.storage.exception import LVMDriverError, VolumeDeviceNotFound, VolumeGroupNotFound
from agent.storage.runner import CommandResult, ProcessExecutionError, Runner
from agent.storage.volume_utils import escape_snapshot

LOG = logging.getLogger(__name__)

# LP #1270192: lvremove can race udev; Cinder asks LVM to retry deactivation.
LVREMOVE_CONFIG = "activation { retry_deactivation = 1} "
LVREMOVE_RETRY_CONFIG = LVREMOVE_CONFIG + "devices { ignore_suspended_devices = 1}"
# One ':'-separated row per group: name, size, free (GiB), LV count, UUID.
_VGS_INFO = (
    "vgs",
    "--noheadings",
    "--unit=g",
    "-o",
    "name,size,free,lv_count,uuid",
    "--separator",
    ":",
    "--nosuffix",
)


class LVM:
    """The LVM commands for volume group ``vg_name``. ``lvm_conf_file`` (used only if the file
    exists) and ``suppress_fd_warnings`` shape the ``env`` every LVM command runs under."""

    def __init__(
        self,
        runner: Runner,
        vg_name: str,
        *,
        lvm_conf_file: str | None = None,
        suppress_fd_warnings: bool = False,
    ) -> None:
        self.runner = runner
        self.vg_name = vg_name
        self.pool_name = f"{vg_name}-pool"
        self.lvm_conf_file = lvm_conf_file
        self.suppress_fd_warnings = suppress_fd_warnings
        self._version: tuple[int, int, int] | None = None

    # ------------------------------------------------------------------ the group

    def get_lvm_version(self) -> tuple[int, int, int]:
        """``lvm version``, asked once."""
        if self._version is None:
            out = self._lvm(["lvm", "version"]).stdout
            match = re.search(r"LVM version:\s+(\d+)\.(\d+)\.(\d+)", out)
            if match is None:
                raise LVMDriverError("LVM version not detected in output")
            major, minor, patch = (int(part) for part in match.groups())
            self._version = (major, minor, patch)
        return self._version

    def vg_exists(self) -> bool:
        try:
            out = self._lvm(["vgs", "--noheadings", "-o", "name", self.vg_name]).stdout
        except ProcessExecutionError:
            return False
        return self.vg_name in out.split()

    def vg_info(self) -> dict:
        """``vgs`` for the group: name, size and free (GiB floats), lv_count, uuid, and zeroed
        thin-pool fields for the caller to fill in."""
        out = self._lvm([*_VGS_INFO, self.vg_name]).stdout
        rows = [line.split(":") for line in out.split()]
        if len(rows) != 1:
            raise VolumeGroupNotFound(f"Unable to find Volume Group: {self.vg_name}")
        name, size, free, lv_count, uuid = rows[0]
        return {
            "name": name,
            "size": float(size),
            "free": float(free),
            "lv_count": int(lv_count),
            "uuid": uuid,
            "thin_pool_size": 0.0,
            "thin_pool_free": 0.0,
            "provisioned": 0.0,
        }

    def list_physical_volumes(self) -> str:
        """``pvs`` over every PV, one ``vg|name|size|free`` row each (GiB)."""
        return self._lvm(
            [
                "pvs",
                "--noheadings",
                "--unit=g",
                "-o",
                "vg_name,name,size,free",
                "--separator",
                "|",
                "--nosuffix",
                "--ignoreskippedcluster",
            ]
        ).stdout

    def create_thin_pool(self) -> str:
        """``lvcreate -T -L <0.95 * vg free>g <vg>/<vg>-pool``; returns the size string."""
        vg = self.vg_info()  # the pool is not known yet, so only the group is asked about
        size_str = "%sg" % (vg["free"] * 0.95)  # leave 5% for metadata, as Cinder does
        self._lvm(["lvcreate", "-T", "-L", size_str, f"{self.vg_name}/{self.pool_name}"])
        return size_str

    def thin_pool_free_space(self) -> float:
        """The pool's free GiB, from its size and Data%; 0.0 if ``lvs`` cannot say."""
        try:
            out = self._lvm(
                [
                    "lvs",
                    "--noheadings",
                    "--unit=g",
                    "-o",
                    "size,data_percent",
                    "--separator",
                    ":",
                    "--nosuffix",
                    f"/dev/{self.vg_name}/{self.pool_name}",
                ]
            ).stdout
        except ProcessExecutionError:
            LOG.exception("Error querying thin pool about data_percent")
            return 0.0
        size, percent = (float(x) for x in out.strip().split(":"))
        return round(size - size / 100 * percent, 2)

    # ------------------------------------------------------------------ LVs: queries

    def get_volumes(self, lv_name: str | None = None) -> list[dict]:
        """``lvs`` for the group (or one LV): dicts of vg, name, size (GiB text, as LVM says)."""
        target = f"{self.vg_name}/{lv_name}" if lv_name else self.vg_name
        try:
            out = self._lvm(
                [
                    "lvs",
                    "--noheadings",
                    "--unit=g",
                    "-o",
                    "vg_name,name,size",
                    "--nosuffix",
                    "--readonly",
                    target,
                ]
            ).stdout
        except ProcessExecutionError as error:
            if "not found" in error.stderr or "Failed to find" in error.stderr:
                LOG.info(
                    "Logical Volume not found when querying LVM info. (vg_name=%s, lv_name=%s",
                    self.vg_name,
                    lv_name,
                )
                return []
            raise
        words = out.split()
        return [
            {"vg": vg, "name": name, "size": size}
            for vg, name, size in zip(words[0::3], words[1::3], words[2::3], strict=True)
        ]

    def get_volume(self, name: str) -> dict | None:
        return next((lv for lv in self.get_volumes(name) if lv["name"] == name), None)

    def lv_has_snapshot(self, name: str) -> bool:
        attr = self._lv_attr(name, readonly=True)
        return bool(attr) and attr[0] in "oO"

    def _lv_attr(self, name: str, readonly: bool = False) -> str:
        cmd = ["lvdisplay", "--noheading", "-C", "-o", "Attr"]
        cmd += ["--readonly"] if readonly else []
        return self._lvm([*cmd, f"{self.vg_name}/{name}"]).stdout.strip()

    # ------------------------------------------------------------------ LVs: changes

    def create_volume(self, name: str, size_gb: int, lv_type: str = "default") -> None:
        """A thick LV, or for ``lv_type="thin"`` a thin one in the group's pool."""
        if lv_type == "thin":
            cmd = [
                "lvcreate",
                "-T",
                "-V",
                f"{size_gb}g",
                "-n",
                name,
                f"{self.vg_name}/{self.pool_name}",
            ]
        else:
            cmd = ["lvcreate", "-n", name, self.vg_name, "-L", f"{size_gb}g"]
        try:
            self._lvm(cmd)
        except ProcessExecutionError as error:
            LOG.error(
                "Error creating Volume\nCmd     :%s\nStdOut  :%s\nStdErr  :%s",
                error.cmd,
                error.stdout,
                error.stderr,
            )
            with contextlib.suppress(ProcessExecutionError):  # brick logs the VGs' state too
                state = self._lvm([*_VGS_INFO]).stdout
                LOG.error("Current state: %s", state.strip())
            raise

    def create_lv_snapshot(self, name: str, source: str, lv_type: str = "default") -> None:
        """A snapshot of ``source``: thin for thin; thick with ``-L`` set to the size ``lvs``
        reports for the source (e.g. ``-L 1.00g``), exactly as brick passes it."""
        ref = self.get_volume(source)
        if ref is None:
            raise VolumeDeviceNotFound(f"Volume device not found at {source}.")
        cmd = ["lvcreate", "--name", name, "--snapshot", f"{self.vg_name}/{source}"]
        if lv_type != "thin":
            cmd += ["-L", f"{ref['size']}g"]
        self._lvm(cmd)

    def extend_volume(self, name: str, size_gb: int) -> None:
        # An origin with (thick) snapshots is deactivated around the resize, as brick does.
        has_snapshot = self.lv_has_snapshot(name)
        if has_snapshot:
            self.deactivate_lv(name)
        self._lvm(["lvextend", "-L", f"{size_gb}g", f"{self.vg_name}/{name}"])
        if has_snapshot:
            self.activate_lv(name)

    def activate_lv(self, name: str, is_snapshot: bool = False, permanent: bool = False) -> None:
        """``lvchange -a y --yes -K`` (or ``-k n`` to make it permanent, for thin clones)."""
        if is_snapshot and self.get_lvm_version() < (2, 2, 91):
            return  # snapshot activation unsupported: assume active
        cmd = ["lvchange", "-a", "y", "--yes"]
        if self.get_lvm_version() >= (2, 2, 99):
            cmd += ["-k", "n"] if permanent else ["-K"]
        self.runner.run([*cmd, f"{self.vg_name}/{escape_snapshot(name)}"])

    def deactivate_lv(self, name: str) -> None:
        self.runner.run(["lvchange", "-a", "n", f"{self.vg_name}/{escape_snapshot(name)}"])
        for delay in (0.1, 0.2, 0.4, 0.8, 1.6):  # wait until it is really down
            attr = self._lv_attr(name)
            if len(attr) < 5 or attr[4] != "a":
                return
            time.sleep(delay)
        raise LVMDriverError(f"Volume {name} was not deactivated")

    def delete(self, name: str) -> None:
        """``lvremove -f``, retried once skipping suspended devices."""
        try:
            self.runner.run(
                ["lvremove", "--config", LVREMOVE_CONFIG, "-f", f"{self.vg_name}/{name}"]
            )
        except ProcessExecutionError as error:
            LOG.debug(
                "Error reported running lvremove: CMD: %s, RESPONSE: %s", error.cmd, error.stderr
            )
            # Cinder runs `udevadm settle` here (privsep); a failed lvremove can leave devices
            # suspended, so the retry skips them.
            self.runner.run(
                ["lvremove", "--config", LVREMOVE_RETRY_CONFIG, "-f", f"{self.vg_name}/{name}"]
            )

    def revert(self, snapshot_name: str) -> None:
        """``lvconvert --merge <vg>/<snapshot>``: the origin goes back to the snapshot, which is
        consumed (run plainly, as Cinder's privsep does)."""
        self.runner.run(["lvconvert", "--merge", f"{self.vg_name}/{snapshot_name}"])

    def rename_volume(self, lv_name: str, new_name: str) -> None:
        """``lvrename <vg> <lv> <new>`` (run plainly, as Cinder's privsep does)."""
        self.runner.run(["lvrename", self.vg_name, lv_name, new_name])

    # ---------------------------------------------------------------------- plumbing

    def _lvm_prefix(self) -> list[str]:
        prefix = ["env", "LC_ALL=C"]
        conf = self.lvm_conf_file
        if conf and os.path.isfile(conf):
            prefix.append("LVM_SYSTEM_DIR=" + os.path.dirname(conf))
        if self.suppress_fd_warnings:
            prefix.append("LVM_SUPPRESS_FD_WARNINGS=1")
        return prefix

    def _lvm(self, args: list[str]) -> CommandResult:
        """An LVM command under ``env LC_ALL=C``; exit 139 (an LVM segfault, LP #1901783) is
        retried, as brick's _run_lvm_command does."""
        argv = self._lvm_prefix() + args
        for delay in (0.5, 0.25, 0.125):
            try:
                return self.runner.run(argv)
            except ProcessExecutionError as error:
                if error.exit_code != 139:
                    raise
                time.sleep(delay)
        return self.runner.run(argv)
