"""A simulated iSCSI target table: what tgtd (``tgt-admin``, ``tgtadm``) and the kernel's LIO
(``cinder-rtstool``) would hold, so an export is a real row and a connection's details are
read back from it.

The table is one JSON file, ``<state_dir>/targets.json``, changed under an exclusive
``flock`` (the agent's job processes share it). ``tgt-admin --update <iqn>`` reads the target's
description from the persistence files in ``include_dir`` (tgtd's ``include
<volumes_dir>/*``), as the real tool reads its configuration; a backing store must be an
active LV of the simulated volume group. Answers are worded as tgt 1.0 and rtstool word them.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from agent.storage.allowlist import Invocation
from agent.storage.lvm_reply import Reply

# tgtadm's exit codes (usr/tgtadm_error.h): TGTADM_NO_TARGET.
ENOTARGET = 22
_TARGET_BLOCK = re.compile(r"<target\s+(\S+)>(.*?)</target>", re.S)


class SimulatedTargets:
    """The targets a host exports. ``device_size`` maps a backing store path to its size in
    bytes, or None when there is no such (active) device."""

    def __init__(
        self, state_dir: Path, include_dir: Path, device_size: Callable[[str], int | None]
    ) -> None:
        self.state_dir = Path(state_dir)
        self.include_dir = Path(include_dir)
        self.device_size = device_size
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._path = self.state_dir / "targets.json"
        self._lock = self.state_dir / "targets.lock"

    # ------------------------------------------------------------------------- state

    @contextlib.contextmanager
    def _change(self) -> Iterator[dict]:
        with open(self._lock, "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                state = json.loads(self._path.read_text()) if self._path.exists() else {}
                state.setdefault("targets", {})
                yield state
                tmp = self._path.with_suffix(f".tmp{os.getpid()}")
                tmp.write_text(json.dumps(state, indent=1))
                os.replace(tmp, self._path)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def targets(self) -> dict[str, dict]:
        """Every target by iqn: tid, lun, backing store, CHAP users and allowed initiators."""
        with open(self._lock, "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_SH)
            try:
                return json.loads(self._path.read_text())["targets"] if self._path.exists() else {}
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def commands(self) -> dict[str, Callable[[Invocation], Reply]]:
        """The commands this table answers, by the allowlist's command name."""
        return {
            "tgt-admin": self._tgt_admin,
            "tgtadm": self._tgtadm,
            "cinder-rtstool create": self._rts_create,
            "cinder-rtstool add-initiator": self._rts_add_initiator,
            "cinder-rtstool delete-initiator": self._rts_delete_initiator,
            "cinder-rtstool delete": self._rts_delete,
            "cinder-rtstool get-targets": self._rts_get_targets,
            "cinder-rtstool save": _ok,
            "cinder-rtstool restore": _ok,
            "cinder-rtstool verify": _ok,
        }

    # ----------------------------------------------------------------------------- tgt

    def _tgt_admin(self, invocation: Invocation) -> Reply:
        opts = invocation.options
        if "--update" in opts:
            return self._tgt_update(str(opts["--update"]), force=bool(opts.get("-f")))
        if "--delete" in opts:
            return self._tgt_delete(str(opts["--delete"]))
        return self._tgt_show()

    def _tgtadm(self, invocation: Invocation) -> Reply:
        if (
            invocation.options.get("--op") == "show"
            and invocation.options.get("--mode") == "target"
        ):
            return self._tgt_show()
        return Reply(stderr=["tgtadm: this operation is not simulated"], exit_code=22)

    def _tgt_update(self, iqn: str, force: bool = False) -> Reply:
        described = self._described(iqn)
        if described is None:
            return Reply(stderr=[f"Target {iqn} is not in the configuration"], exit_code=1)
        with self._change() as state:
            live = state["targets"].get(iqn)
            if live is not None:
                if force:  # --force updates a live target: its LUN's size is read again
                    live["size"] = self.device_size(live["backing_store"]) or live["size"]
                return Reply()  # without it, tgt-admin leaves a live target alone
            size = self.device_size(described["backing-store"])
            state["targets"][iqn] = {
                "kind": "tgt",
                "tid": 1 + max((t["tid"] for t in state["targets"].values()), default=0),
                "lun": 1 if size is not None else None,
                "backing_store": described["backing-store"],
                "size": size or 0,
                "driver": described.get("driver", "iscsi"),
                "scsi_id": described.get("scsi_id", ""),
                "users": [described["incominguser"].split()[0]]
                if described.get("incominguser")
                else [],
                "initiators": ["ALL"],
            }
        if size is None:
            path = described["backing-store"]
            return Reply(stderr=[f"tgtadm: can't find the backing store {path}"])
        return Reply()

    def _tgt_delete(self, iqn: str) -> Reply:
        with self._change() as state:
            if state["targets"].pop(iqn, None) is None:
                return Reply(stderr=["tgtadm: can't find the target"], exit_code=ENOTARGET)
        return Reply()

    def _tgt_show(self) -> Reply:
        reply = Reply()
        for iqn, target in sorted(self.targets().items(), key=lambda item: item[1]["tid"]):
            if target["kind"] == "tgt":
                reply.stdout += _tgt_target_lines(iqn, target)
        return reply

    def _described(self, iqn: str) -> dict | None:
        """The target's block in tgtd's included configuration, as key -> value."""
        if not self.include_dir.is_dir():
            return None
        for conf in sorted(self.include_dir.iterdir()):
            if not conf.is_file():
                continue
            for name, body in _TARGET_BLOCK.findall(conf.read_text()):
                if name == iqn:
                    lines = (line.strip().split(None, 1) for line in body.splitlines())
                    return {
                        parts[0]: parts[1] if len(parts) > 1 else "" for parts in lines if parts
                    }
        return None

    # ----------------------------------------------------------------------------- LIO

    def _rts_create(self, invocation: Invocation) -> Reply:
        device, iqn, user, _secret, _iser = invocation.positionals
        size = self.device_size(device)
        if size is None:
            return Reply(stderr=[f"Could not open block device {device}"], exit_code=1)
        with self._change() as state:
            if iqn not in state["targets"]:  # rtstool reuses an existing storage object
                state["targets"][iqn] = {
                    "kind": "lio",
                    "tid": iqn,
                    "lun": 0,
                    "backing_store": device,
                    "size": size,
                    "users": [user],
                    "initiators": [],
                    "portals": str(invocation.options.get("-a", "0.0.0.0")).split(","),
                    "port": int(invocation.options.get("-p", 3260)),
                }
        return Reply()

    def _rts_add_initiator(self, invocation: Invocation) -> Reply:
        iqn, _user, _secret, initiator = invocation.positionals
        with self._change() as state:
            target = state["targets"].get(iqn)
            if target is None:
                return _rts_no_target(iqn)
            if initiator.lower() not in (i.lower() for i in target["initiators"]):
                target["initiators"].append(initiator)
        return Reply()

    def _rts_delete_initiator(self, invocation: Invocation) -> Reply:
        iqn, initiator = invocation.positionals
        with self._change() as state:
            target = state["targets"].get(iqn)
            if target is None:
                return _rts_no_target(iqn)
            kept = [i for i in target["initiators"] if i.lower() != initiator.lower()]
            if len(kept) == len(target["initiators"]):
                return Reply(stdout=[f"delete_initiator: {initiator} ACL not found. Continuing."])
            target["initiators"] = kept
        return Reply()

    def _rts_delete(self, invocation: Invocation) -> Reply:
        with self._change() as state:
            state["targets"].pop(invocation.positionals[0], None)  # rtstool: silent if absent
        return Reply()

    def _rts_get_targets(self, invocation: Invocation) -> Reply:
        kept = self.targets()
        return Reply(stdout=[iqn for iqn, t in kept.items() if t["kind"] == "lio"])


def _ok(invocation: Invocation) -> Reply:
    return Reply()


def _rts_no_target(iqn: str) -> Reply:
    return Reply(stderr=[f"Could not find target {iqn}"], exit_code=1)


def _tgt_target_lines(iqn: str, target: dict) -> list[str]:
    """One target as ``tgt-admin --show`` prints it: the controller LUN 0, then the disk."""
    lines = [
        f"Target {target['tid']}: {iqn}",
        "    System information:",
        f"        Driver: {target['driver']}",
        "        State: ready",
        "    I_T nexus information:",
        "    LUN information:",
        *_lun_lines(0, "controller", f"IET     {target['tid']:04d}0000", "beaf10", 0, None),
    ]
    if target["lun"] is not None:
        lines += _lun_lines(
            1, "disk", target["scsi_id"], target["scsi_id"], target["size"], target["backing_store"]
        )
    lines += ["    Account information:", *(f"        {user}" for user in target["users"])]
    lines += ["    ACL information:", *(f"        {i}" for i in target["initiators"])]
    return lines


def _lun_lines(lun: int, kind: str, scsi_id: str, sn: str, size: int, path: str | None) -> list:
    return [
        f"        LUN: {lun}",
        f"            Type: {kind}",
        f"            SCSI ID: {scsi_id}",
        f"            SCSI SN: {sn}",
        f"            Size: {round(size / 1e6)} MB, Block size: {512 if path else 1}",
        "            Online: Yes",
        "            Removable media: No",
        "            Prevent removal: No",
        "            Readonly: No",
        "            SWP: No",
        "            Thin-provisioning: No",
        f"            Backing store type: {'rdwr' if path else 'null'}",
        f"            Backing store path: {path or 'None'}",
        "            Backing store flags: ",
    ]
