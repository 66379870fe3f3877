"""``target_helper = tgtadm``, Cinder's default: what ``cinder/volume/targets/tgt.py`` does.

A target is a persistence file ``<volumes_dir>/<volume name>`` describing it (tgtd's
configuration includes that folder) made live with ``tgt-admin --update <iqn>``; it is
found again in ``tgt-admin --show`` and removed with ``tgt-admin --delete <iqn> -f``. tgt
keeps LUN 0 for its controller, so the volume is LUN 1.

Where Cinder waits ten seconds and recreates a missing backing LUN with ``tgtadm --op new``,
this one gives up at once (the simulated tgtd never loses it).
"""

from __future__ import annotations

import logging
import os
import tempfile
import textwrap
from pathlib import Path

from agent.storage.exception import ISCSITargetCreateFailed, ISCSITargetRemoveFailed
from agent.storage.iscsi import ISCSITarget
from agent.storage.runner import ProcessExecutionError

LOG = logging.getLogger(__name__)

VOLUME_CONF = textwrap.dedent(
    """
    <target {name}>
        backing-store {path}
        driver {driver}
        {chap_auth}
        {target_flags}
        write-cache {write_cache}
        scsi_sn {scsi_sn}
        scsi_id {scsi_id}
    </target>
    """
)
TGTADM_SHOW = ["tgtadm", "--lld", "iscsi", "--op", "show", "--mode", "target"]
NON_FATAL_DELETE = ("can't find the target", "access control rule does not exist")


class TgtAdm(ISCSITarget):
    lun = 1

    def create_iscsi_target(self, iqn: str, path: str, chap: tuple[str, str]) -> str:
        self.runner.run(TGTADM_SHOW)  # Cinder logs the targets before (LP #1398078)
        vol_id = iqn.split(":")[1]
        flags = self.options.iscsi_target_flags
        conf = VOLUME_CONF.format(
            name=iqn,
            path=path,
            driver=self.options.target_protocol,
            chap_auth="incominguser {} {}".format(*chap),
            target_flags=f"bsoflags {flags}" if flags else "",
            write_cache=self.options.iscsi_write_cache,
            scsi_sn=vol_id,
            scsi_id=vol_id,
        )
        persist = Path(self.options.volumes_dir) / vol_id
        robust_file_write(persist, conf)
        try:
            self.runner.run(["tgt-admin", "--update", iqn])
        except ProcessExecutionError as error:
            persist.unlink(missing_ok=True)
            raise ISCSITargetCreateFailed(
                f"Failed to create iscsi target for volume {vol_id}.", error.result
            ) from error
        self.runner.run(TGTADM_SHOW)
        tid = self.find_target(iqn)
        if tid is None or not self._has_backing_lun(iqn, tid):
            persist.unlink(missing_ok=True)
            raise ISCSITargetCreateFailed(f"Failed to create iscsi target for volume {vol_id}.")
        return tid

    def remove_iscsi_target(self, volume: dict) -> None:
        vol_name = volume["name"]
        persist = Path(self.options.volumes_dir) / vol_name
        if not persist.exists():
            LOG.warning("Volume path %s does not exist, nothing to remove.", persist)
            return
        iqn = f"{self.options.target_prefix}{vol_name}"
        try:
            self.runner.run(["tgt-admin", "--delete", iqn, "-f"])
        except ProcessExecutionError as error:
            if not any(text in error.stderr for text in NON_FATAL_DELETE):
                raise ISCSITargetRemoveFailed(
                    f"Failed to remove iscsi target for volume {volume['id']}.", error.result
                ) from error
            LOG.warning("Target or its ACLs were already gone for %s", iqn)
        if self.find_target(iqn):  # some tgt versions fail silently with --force
            try:
                self.runner.run(["tgt-admin", "--delete", iqn])
            except ProcessExecutionError as error:
                raise ISCSITargetRemoveFailed(
                    f"Failed to remove iscsi target for volume {volume['id']}.", error.result
                ) from error
        persist.unlink(missing_ok=True)

    def extend_target(self, volume: dict) -> None:
        """An attached volume's live target is told its new size (it disrupts I/O, Cinder
        warns): ``tgt-admin --update <iqn> -f``."""
        if volume.get("attachments"):
            self.runner.run(["tgt-admin", "--update", self.iqn(volume), "-f"])

    def find_target(self, iqn: str) -> str | None:
        """The tid of ``iqn`` in ``tgt-admin --show`` (``Target 1: <iqn>``)."""
        for line in self.runner.run(["tgt-admin", "--show"]).stdout.splitlines():
            if iqn in line:
                return line.split()[1].rstrip(":")
        return None

    def _has_backing_lun(self, iqn: str, tid: str) -> bool:
        """Cinder's ``_verify_backing_lun``: the target's section lists ``LUN: 1``."""
        section, capture = [], False
        for line in self.runner.run(["tgt-admin", "--show"]).stdout.splitlines():
            if iqn in line and f"Target {tid}" in line:
                capture = True
            elif "Target " in line and iqn not in line:
                capture = False
            if capture:
                section.append(line)
        return "        LUN: 1" in section


def robust_file_write(path: Path, content: str) -> None:
    """Cinder's ``robust_file_write``: a temporary file, flushed, renamed over the target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as out:
        out.write(content)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
