"""A simulated LVM volume group that several processes can share.

What LVM keeps in its metadata area (the logical volumes, their sizes, types and origins) lives in
one JSON file, ``<data_dir>/<vg>.vg.json``; every read takes a shared ``flock`` on
``<data_dir>/<vg>.vg.lock`` and every change an exclusive one, so forked RQ job processes can
allocate from the same group without ever handing out an extent twice. Each process keeps its
last look at each group and reads the file again only when the token a writer leaves in the lock
file has changed (one agent writes most groups, so most changes skip the parse).

What LVM keeps on disk (the data) lives in one sparse file per logical volume,
``<data_dir>/<lv>.img``, truncated to the volume's size: bytes written through ``dd`` are really
there, snapshots and clones really copy them, and a wipe really zeroes them.

Methods that stand for an LVM command return a :class:`Reply` worded and numbered like LVM 2.03
(messages checked against lvm2's ``lib/metadata/lv_manip.c``, ``thin_manip.c``, ``metadata.c``,
``tools/toollib.c`` and against a real ``lvcreate``).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import random
import re
import string
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from agent.storage.datacopy import copy_range
from agent.storage.lvm_reply import EINVALID_CMD_LINE, Reply, display_size

KiB = 1024
MiB = 1024**2
GiB = 1024**3
SECTOR = 512

LvType = Literal["thick", "thin", "snapshot", "thin-pool"]

_NAME = re.compile(r"[A-Za-z0-9+_.][A-Za-z0-9+_.-]*")
_RESERVED_PREFIXES = ("snapshot", "pvmove")
_RESERVED_PARTS = (
    "_cdata",
    "_cmeta",
    "_corig",
    "_mlog",
    "_mimage",
    "_pmspare",
    "_rimage",
    "_rmeta",
    "_tdata",
    "_tmeta",
    "_vorigin",
    "_vdata",
)
# What lvcreate -T prints for its default 64 KiB chunk (as printed by lvm2 2.03.16).
_THIN_POOL_NOTE = (
    "Thin pool volume with chunk size 64.00 KiB can address at most <15.88 TiB of data."
)


@dataclass
class LogicalVolume:
    name: str
    lv_type: LvType
    extents: int  # virtual size for thin volumes
    origin: str | None = None
    pool: str | None = None
    active: bool = True
    skip_activation: bool = False
    # A thin pool's hidden _tmeta and _pmspare LVs also take extents from the group.
    metadata_extents: int = 0

    @property
    def allocated_extents(self) -> int:
        """Extents this LV takes from the volume group (thin volumes take none up front)."""
        return 0 if self.lv_type == "thin" else self.extents + 2 * self.metadata_extents


@dataclass
class _State:
    vg_name: str
    uuid: str
    extent_bytes: int
    extent_count: int
    lvs: dict[str, LogicalVolume]

    @property
    def free_extents(self) -> int:
        return self.extent_count - sum(lv.allocated_extents for lv in self.lvs.values())

    def copy(self) -> _State:
        """A copy whose LVs can be changed without touching this state's."""
        lvs = {}
        for name, lv in self.lvs.items():
            twin = object.__new__(LogicalVolume)
            twin.__dict__ = lv.__dict__.copy()
            lvs[name] = twin
        return _State(self.vg_name, self.uuid, self.extent_bytes, self.extent_count, lvs)

    def to_json(self, encoded: dict[tuple, str] | None = None) -> str:
        """Compact, from the LVs' own dicts (indent= would take json's pure-Python encoder and
        asdict() a deep copy). ``encoded``: each LV's JSON by its values, from the last save:
        an LV that did not change is not encoded again (it is given back filled)."""
        encoded = {} if encoded is None else encoded
        known = dict(encoded)
        encoded.clear()
        for lv in self.lvs.values():
            values = tuple(lv.__dict__.values())
            text = known.get(values)
            encoded[values] = text if text is not None else json.dumps(lv.__dict__)
        head = json.dumps(
            {
                "vg_name": self.vg_name,
                "uuid": self.uuid,
                "extent_bytes": self.extent_bytes,
                "extent_count": self.extent_count,
            }
        )
        return f'{head[:-1]}, "lvs": [{", ".join(encoded.values())}]}}'

    @classmethod
    def from_json(cls, text: str) -> _State:
        data = json.loads(text)
        lvs = {lv["name"]: LogicalVolume(**lv) for lv in data.pop("lvs")}
        return cls(lvs=lvs, **data)


@dataclass
class _Parsed:
    """A process's last look at a group: the token its last writer left in the lock file,
    the state it read or wrote then (never changed: a change works on a copy), and each
    LV's JSON."""

    token: bytes
    state: _State
    encoded: dict[tuple, str]


# Every lvcreate and lvremove reads and rewrites the group's metadata, so its cost grows with
# the LVs (a read 3.9 ms and a save 4.2 ms with 1,000 LVs): each process keeps its last look
# at each group, by path, and reads the file again only when another writer has been since.
_PARSED: dict[Path, _Parsed] = {}


def _lvm_uuid() -> str:
    """An LVM-looking UUID (6-4-4-4-4-4-6 characters)."""
    alphabet = string.ascii_letters + string.digits
    return "-".join("".join(random.choices(alphabet, k=n)) for n in (6, 4, 4, 4, 4, 4, 6))


class SimulatedVolumeGroup:
    """An LVM volume group in a directory: metadata in JSON, data in sparse files.

    ``thin_pool=True`` creates ``<vg>-pool`` when the group is first made (95% of the group, as
    Cinder sizes it); otherwise Cinder's driver creates it itself with ``lvcreate -T``. An
    existing group keeps its state: the size and extent arguments only shape a new one.
    """

    def __init__(
        self, data_dir: Path, vg_name: str, size_gb: float, thin_pool: bool, extent_mib: int = 4
    ) -> None:
        if not _NAME.fullmatch(vg_name):
            raise ValueError(f"invalid volume group name {vg_name!r}")
        self.data_dir = Path(data_dir)
        self._data_dir_text = str(self.data_dir)
        self.vg_name = vg_name
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._state_path = self.data_dir / f"{vg_name}.vg.json"
        self._lock_path = self.data_dir / f"{vg_name}.vg.lock"
        with self._locked(exclusive=True) as lock:
            if self._state_path.exists():
                return
            extent_bytes = int(extent_mib * MiB)
            state = _State(
                vg_name=vg_name,
                uuid=_lvm_uuid(),
                extent_bytes=extent_bytes,
                extent_count=int(size_gb * GiB) // extent_bytes,
                lvs={},
            )
            if thin_pool:
                pool_bytes = int(state.free_extents * extent_bytes * 0.95)
                self._create_thin_pool(state, Reply(), f"{vg_name}-pool", pool_bytes)
            self._save(state, lock)

    # ----------------------------------------------------------------- state and locking

    @contextlib.contextmanager
    def _locked(self, exclusive: bool) -> Iterator[BinaryIO]:
        with open(self._lock_path, "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            try:
                yield lock
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _load(self, lock: BinaryIO) -> _State:
        """The group's state (under ``lock``): this process's last look at it if no other
        writer has been since, as the token in the lock file says."""
        lock.seek(0)
        token = lock.read()
        seen = _PARSED.get(self._state_path)
        if token and seen is not None and seen.token == token:
            return seen.state
        state = _State.from_json(self._state_path.read_text())
        _PARSED[self._state_path] = _Parsed(token, state, {})
        return state

    def _save(self, state: _State, lock: BinaryIO) -> None:
        """Write ``state`` (under the exclusive ``lock``) with a new token. The token goes
        first: a writer that dies between the two leaves a new token on the old state, which
        only makes every process read the file again."""
        seen = _PARSED.pop(self._state_path, None)
        encoded = seen.encoded if seen is not None else {}
        token = uuid.uuid4().hex.encode()
        lock.truncate(0)
        lock.write(token)
        lock.flush()
        # Readers hold the shared lock, so this is belt and braces: never a half-written file.
        tmp = self._state_path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(state.to_json(encoded))
        os.replace(tmp, self._state_path)
        _PARSED[self._state_path] = _Parsed(token, state, encoded)

    def _read(self) -> _State:
        """The group's state, to read only: it may be this process's shared last look."""
        with self._locked(exclusive=False) as lock:
            return self._load(lock)

    @contextlib.contextmanager
    def _change(self) -> Iterator[_State]:
        """Load, let the caller change a copy, save: all under the exclusive lock."""
        with self._locked(exclusive=True) as lock:
            state = self._load(lock).copy()
            yield state
            self._save(state, lock)

    # ------------------------------------------------------------------------ read side

    def lv_path(self, name: str) -> Path:
        """The sparse file that holds the data of LV ``name``."""
        return self.data_dir / f"{name}.img"

    def get_lv(self, name: str) -> LogicalVolume | None:
        return self._read().lvs.get(name)

    def logical_volumes(self) -> list[LogicalVolume]:
        return list(self._read().lvs.values())

    def info(self) -> dict:
        """The group's own numbers, as ``vgs`` reports them."""
        return self._info(self._read())

    def lvs_and_info(self) -> tuple[dict[str, LogicalVolume], dict]:
        """The LVs by name and the group's numbers from one read (an ``lvs`` report's)."""
        state = self._read()
        return state.lvs, self._info(state)

    @staticmethod
    def _info(state: _State) -> dict:
        free = state.free_extents  # a walk over every LV
        return {
            "name": state.vg_name,
            "uuid": state.uuid,
            "extent_bytes": state.extent_bytes,
            "extent_count": state.extent_count,
            "free_count": free,
            "size_bytes": state.extent_count * state.extent_bytes,
            "free_bytes": free * state.extent_bytes,
            "lv_count": len(state.lvs),
            "snap_count": sum(1 for lv in state.lvs.values() if lv.lv_type == "snapshot"),
        }

    def allocated_bytes(self, name: str) -> int:
        """Bytes of LV ``name`` actually backed by data (what a thin pool's Data% counts)."""
        # A plain string path: a pool's Data% stats every thin LV on each capability report,
        # and building a Path each time cost more than the stat itself.
        try:
            st = os.stat(os.path.join(self._data_dir_text, name + ".img"))
        except FileNotFoundError:
            return 0
        return min(st.st_blocks * SECTOR, st.st_size)

    def data_percent(self, pool: str) -> float:
        """A thin pool's Data%: the bytes its thin volumes have written over its size."""
        state = self._read()
        pool_lv = state.lvs.get(pool)
        if pool_lv is None or pool_lv.lv_type != "thin-pool":
            return 0.0
        used = sum(self.allocated_bytes(lv.name) for lv in state.lvs.values() if lv.pool == pool)
        return min(100.0, 100.0 * used / (pool_lv.extents * state.extent_bytes))

    def usage(self) -> dict:
        """Everything a dashboard wants about the group, in GiB floats and plain values."""
        state = self._read()
        pools = [lv for lv in state.lvs.values() if lv.lv_type == "thin-pool"]
        pool = pools[0] if pools else None
        size = state.extent_bytes
        return {
            "vg_name": state.vg_name,
            "uuid": state.uuid,
            "extent_mib": state.extent_bytes / MiB,
            "total_extents": state.extent_count,
            "free_extents": state.free_extents,
            "size_gb": state.extent_count * size / GiB,
            "free_gb": state.free_extents * size / GiB,
            "lv_count": len(state.lvs),
            "thin_pool": None
            if pool is None
            else {
                "name": pool.name,
                "size_gb": pool.extents * size / GiB,
                "data_percent": self.data_percent(pool.name),
                "provisioned_gb": sum(
                    lv.extents for lv in state.lvs.values() if lv.pool == pool.name
                )
                * size
                / GiB,
            },
            "lvs": [
                {
                    "name": lv.name,
                    "type": lv.lv_type,
                    "size_gb": lv.extents * size / GiB,
                    "origin": lv.origin,
                    "pool": lv.pool,
                    "active": lv.active,
                    "allocated_bytes": self.allocated_bytes(lv.name),
                    "path": str(self.lv_path(lv.name)),
                }
                for lv in state.lvs.values()
            ],
        }

    def resolve_device(self, device: str) -> Path | None:
        """Map ``/dev/<vg>/<lv>``, ``/dev/mapper/<vg>-<lv>`` (and a snapshot's ``-cow``) to the
        LV's backing file. Like a real device node it only exists while the LV is active."""
        name = self._lv_name_from_device(device)
        if name is None:
            return None
        cow = False
        lv = self.get_lv(name)
        if lv is None and name.endswith("-cow"):
            name, cow = name[: -len("-cow")], True
            lv = self.get_lv(name)
        if lv is None or not lv.active or (cow and lv.lv_type != "snapshot"):
            return None
        return self.lv_path(name)

    def _lv_name_from_device(self, device: str) -> str | None:
        prefix = f"/dev/{self.vg_name}/"
        if device.startswith(prefix):
            return device[len(prefix) :]
        mapper = "/dev/mapper/"
        if device.startswith(mapper):
            # device-mapper doubles each '-' inside the VG and LV names and joins them with one.
            vg, sep, lv = device[len(mapper) :].replace("--", "\0").partition("-")
            if sep and vg.replace("\0", "-") == self.vg_name:
                return lv.replace("\0", "-")
        return None

    # ------------------------------------------------------------------ commands (write)

    def create_lv(self, name: str, size_bytes: int) -> Reply:
        """``lvcreate -n <name> <vg> -L <size>``: a thick, linear LV."""
        reply = Reply()
        with self._change() as state:
            extents = self._extents(state, reply, size_bytes)
            if not self._name_usable(state, reply, name):
                return reply
            if not self._has_free(state, reply, extents):
                return reply
            state.lvs[name] = LogicalVolume(name, "thick", extents)
            self._make_backing_file(name, extents * state.extent_bytes)
            reply.say(f'Logical volume "{name}" created.')
        return reply

    def create_thin_pool(self, name: str, size_bytes: int) -> Reply:
        """``lvcreate -T -L <size> <vg>/<name>``."""
        reply = Reply()
        with self._change() as state:
            self._create_thin_pool(state, reply, name, size_bytes)
        return reply

    def create_thin_lv(self, name: str, virtual_bytes: int, pool: str) -> Reply:
        """``lvcreate -T -V <size> -n <name> <vg>/<pool>``: may exceed the pool (with a warning)."""
        reply = Reply()
        with self._change() as state:
            pool_lv = state.lvs.get(pool)
            if pool_lv is None:
                return reply.fail(f"Pool {pool} not found in Volume group {state.vg_name}.")
            if pool_lv.lv_type != "thin-pool":
                return reply.fail(f"Logical volume {state.vg_name}/{pool} is not a thin pool.")
            extents = self._extents(state, reply, virtual_bytes)
            if not self._name_usable(state, reply, name):
                return reply
            state.lvs[name] = LogicalVolume(name, "thin", extents, pool=pool)
            self._warn_if_overprovisioned(state, reply, pool)
            self._make_backing_file(name, extents * state.extent_bytes)
            reply.say(f'Logical volume "{name}" created.')
        return reply

    def create_snapshot(self, name: str, origin: str, size_bytes: int | None) -> Reply:
        """``lvcreate --name <name> --snapshot <vg>/<origin> [-L <size>]``.

        With a size it is an old-style (COW) snapshot taking extents from the group; without one
        the origin must be thin and the snapshot is thin, made with LVM's activation-skip flag
        set, so it stays inactive until ``lvchange -K`` (or ``-k n``) activates it.
        """
        reply = Reply()
        with self._change() as state:
            origin_lv = state.lvs.get(origin)
            if origin_lv is None:
                return reply.fail(
                    f"Snapshot origin LV {origin} not found in Volume group {state.vg_name}."
                )
            if size_bytes is None and origin_lv.lv_type != "thin":
                return reply.fail(
                    "Please specify either size or extents with snapshots.", EINVALID_CMD_LINE
                )
            extents = (
                origin_lv.extents if size_bytes is None else self._extents(state, reply, size_bytes)
            )
            if not self._name_usable(state, reply, name):
                return reply
            if size_bytes is None:
                snap = LogicalVolume(
                    name,
                    "thin",
                    extents,
                    origin=origin,
                    pool=origin_lv.pool,
                    active=False,
                    skip_activation=True,
                )
            else:
                if not self._has_free(state, reply, extents):
                    return reply
                snap = LogicalVolume(
                    name, "snapshot", extents, origin=origin, active=origin_lv.active
                )
            state.lvs[name] = snap
            if snap.pool:
                self._warn_if_overprovisioned(state, reply, snap.pool)
            # The snapshot shows the origin as it is now (whatever its COW size); later writes
            # to either stay apart.
            origin_bytes = origin_lv.extents * state.extent_bytes
            self._make_backing_file(name, origin_bytes)
            copy_range(self.lv_path(origin), self.lv_path(name), origin_bytes, sparse=True)
            reply.say(f'Logical volume "{name}" created.')
        return reply

    def remove_lv(self, name: str) -> Reply:
        """``lvremove -f <vg>/<name>``: also removes what cannot outlive it (COW snapshots of an
        origin, thin volumes of a pool), as ``-f`` lets LVM do without asking."""
        reply = Reply()
        with self._change() as state:
            lv = state.lvs.get(name)
            if lv is None:
                return reply.fail(f'Failed to find logical volume "{state.vg_name}/{name}"')
            dependents = [
                other.name
                for other in state.lvs.values()
                if (other.lv_type == "snapshot" and other.origin == name)
                or (lv.lv_type == "thin-pool" and other.pool == name)
            ]
            for victim in [*dependents, name]:
                del state.lvs[victim]
                self.lv_path(victim).unlink(missing_ok=True)
                reply.say(f'Logical volume "{victim}" successfully removed.')
            for other in state.lvs.values():
                if other.origin in dependents or other.origin == name:
                    other.origin = None  # a thin snapshot outlives its origin
        return reply

    def extend_lv(self, name: str, size_bytes: int) -> Reply:
        """``lvextend -L <size> <vg>/<name>``."""
        reply = Reply()
        with self._change() as state:
            lv = state.lvs.get(name)
            if lv is None:
                return reply.fail(
                    f"Logical volume {name} not found in volume group {state.vg_name}."
                )
            extent = state.extent_bytes
            if size_bytes % extent:
                size_bytes += extent - size_bytes % extent
                reply.say(
                    "Rounding size to boundary between physical extents: "
                    f"{display_size(size_bytes)}."
                )
            new = size_bytes // extent
            old = lv.extents
            if new == old:
                return reply.fail(
                    f"New size ({new} extents) matches existing size ({old} extents)."
                )
            if new < old:
                return reply.fail(
                    f"New size given ({new} extents) not larger than existing size ({old} extents)"
                )
            if lv.lv_type != "thin" and new - old > state.free_extents:
                return reply.fail(
                    f"Insufficient free space: {new - old} extents needed,"
                    f" but only {state.free_extents} available"
                )
            lv.extents = new
            if lv.pool:
                self._warn_if_overprovisioned(state, reply, lv.pool)
            if lv.lv_type != "snapshot":  # a COW area grows; the snapshot's view does not
                os.truncate(self.lv_path(name), new * extent)
            label = f"{state.vg_name}/{name}"
            reply.say(
                f"Size of logical volume {label} changed from {display_size(old * extent)} "
                f"({old} extents) to {display_size(new * extent)} ({new} extents)."
            )
            reply.say(f"Logical volume {label} successfully resized.")
        return reply

    def merge_snapshot(self, name: str) -> Reply:
        """``lvconvert --merge <vg>/<snapshot>``: the origin gets the snapshot's data back and the
        snapshot is gone. Nothing holds the origin open here, so the merge runs at once (LVM
        delays it to the next activation only while the origin is open)."""
        reply = Reply()
        with self._change() as state:
            lv = state.lvs.get(name)
            label = f"{state.vg_name}/{name}"
            if lv is None:
                return reply.fail(f'Failed to find logical volume "{label}"')
            origin = state.lvs.get(lv.origin or "")
            if origin is None:
                kind = {"thick": "linear", "thin-pool": "thin-pool"}.get(lv.lv_type, lv.lv_type)
                reply.warn(f"Command on LV {label} does not accept LV type {kind}.")
                return reply.fail(f"Command not permitted on LV {label}.")
            reply.say(f"Merging of volume {label} started.")
            size = origin.extents * state.extent_bytes
            copy_range(self.lv_path(name), self.lv_path(origin.name), size)
            del state.lvs[name]
            self.lv_path(name).unlink(missing_ok=True)
            reply.say(f"{state.vg_name}/{origin.name}: Merged: 100.00%")
        return reply

    def rename_lv(self, name: str, new_name: str) -> Reply:
        """``lvrename <vg> <lv> <new>``: the LV (and its data file) under its new name."""
        reply = Reply()
        with self._change() as state:
            lv = state.lvs.get(name)
            if lv is None:
                return reply.fail(
                    f'Existing logical volume "{name}" not found in volume group "{state.vg_name}"'
                )
            if not self._name_usable(state, reply, new_name):
                return reply
            del state.lvs[name]
            lv.name = new_name
            state.lvs[new_name] = lv
            for other in state.lvs.values():
                if other.origin == name:
                    other.origin = new_name
            os.replace(self.lv_path(name), self.lv_path(new_name))
            reply.say(f'Renamed "{name}" to "{new_name}" in volume group "{state.vg_name}"')
        return reply

    def change_activation(
        self, name: str, activate: bool, ignore_skip: bool = False, set_skip: bool | None = None
    ) -> Reply:
        """``lvchange -a y|n [-K] [-k y|n] <vg>/<name>``.

        An LV flagged activation-skip stays inactive unless ``-K`` is given; ``-k n`` drops the
        flag. A COW snapshot and its origin go up and down together.
        """
        reply = Reply()
        with self._change() as state:
            lv = state.lvs.get(name)
            if lv is None:
                return reply.fail(f'Failed to find logical volume "{state.vg_name}/{name}"')
            if set_skip is not None:
                lv.skip_activation = set_skip
            if activate and lv.skip_activation and not ignore_skip:
                return reply  # LVM skips it silently
            linked = [lv]
            if lv.lv_type == "snapshot" and lv.origin in state.lvs:
                linked.append(state.lvs[lv.origin])
            linked += [
                o for o in state.lvs.values() if o.origin == name and o.lv_type == "snapshot"
            ]
            for each in linked:
                each.active = activate
        return reply

    # ------------------------------------------------------------------------- helpers

    def _extents(self, state: _State, reply: Reply, size_bytes: int) -> int:
        extent = state.extent_bytes
        if size_bytes % extent:
            size_bytes += extent - size_bytes % extent
            reply.say(f"Rounding up size to full physical extent {display_size(size_bytes)}")
        return size_bytes // extent

    @staticmethod
    def _name_usable(state: _State, reply: Reply, name: str) -> bool:
        if not _NAME.fullmatch(name) or name in (".", ".."):
            reply.fail(f'Logical volume name "{name}" is invalid.', EINVALID_CMD_LINE)
            return False
        for prefix in _RESERVED_PREFIXES:
            if name.startswith(prefix):
                reply.fail(
                    f'Names starting "{prefix}" are reserved. Please choose a different LV name.',
                    EINVALID_CMD_LINE,
                )
                return False
        for part in _RESERVED_PARTS:
            if part in name:
                reply.fail(
                    f'Names including "{part}" are reserved. Please choose a different LV name.',
                    EINVALID_CMD_LINE,
                )
                return False
        if name in state.lvs:
            reply.fail(f'Logical Volume "{name}" already exists in volume group "{state.vg_name}"')
            return False
        return True

    @staticmethod
    def _has_free(state: _State, reply: Reply, extents: int) -> bool:
        if extents > state.free_extents:
            reply.fail(
                f'Volume group "{state.vg_name}" has insufficient free space '
                f"({state.free_extents} extents): {extents} required."
            )
            return False
        return True

    def _create_thin_pool(self, state: _State, reply: Reply, name: str, size_bytes: int) -> None:
        extents = self._extents(state, reply, size_bytes)
        if not self._name_usable(state, reply, name):
            return
        # Metadata: LVM sizes it from the chunk count (at least 2 MiB), and keeps a spare copy.
        meta_bytes = max(2 * MiB, extents * state.extent_bytes // (64 * KiB) * 64)
        meta_extents = math.ceil(meta_bytes / state.extent_bytes)
        if not self._has_free(state, reply, extents + 2 * meta_extents):
            return
        reply.say(_THIN_POOL_NOTE)
        state.lvs[name] = LogicalVolume(name, "thin-pool", extents, metadata_extents=meta_extents)
        reply.say(f'Logical volume "{name}" created.')

    @staticmethod
    def _warn_if_overprovisioned(state: _State, reply: Reply, pool: str) -> None:
        """thin_manip.c's check: warn (and still succeed) when thin sizes exceed the pool."""
        extent = state.extent_bytes
        thin_sum = sum(lv.extents for lv in state.lvs.values() if lv.pool == pool) * extent
        pool_size = state.lvs[pool].extents * extent
        if thin_sum <= pool_size:
            return
        vg_size = state.extent_count * extent
        vg_free = state.free_extents * extent
        if vg_size < thin_sum:
            txt, limit = " and the size of whole volume group", vg_size
        elif vg_free < thin_sum:
            txt, limit = (
                (" and the amount of free space in volume group" if vg_free else ""),
                vg_free,
            )
        else:
            txt, limit = "", pool_size
        shown = display_size(limit) if limit else "no free space in volume group"
        reply.warn(
            f"WARNING: Sum of all thin volume sizes ({display_size(thin_sum)}) exceeds the size "
            f"of thin pool {state.vg_name}/{pool}{txt} ({shown})."
        )
        # Defaults: thin_pool_autoextend_threshold = 100, so LVM adds these two notes.
        reply.say(
            "WARNING: You have not turned on protection against thin pools running out of space."
        )
        reply.say(
            "WARNING: Set activation/thin_pool_autoextend_threshold below 100 to trigger "
            "automatic extension of thin pools before they get full."
        )

    def _make_backing_file(self, name: str, size_bytes: int) -> None:
        path = self.lv_path(name)
        with open(path, "wb") as f:  # a leftover file from a crash must not leak its bytes
            f.truncate(size_bytes)
