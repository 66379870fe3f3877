"""The simulated runner: LVM 2.03, GNU dd, qemu-img and the iSCSI target tools (tgt,
cinder-rtstool) played from a simulated volume group and its target table.

Where Cinder's ``processutils.execute`` hands an allowed command to the real tools, a
:class:`SimulatedRunner` answers it from a :class:`SimulatedVolumeGroup`: the same output
layout, messages and exit codes, and real bytes moved between the LVs' sparse files. Its
``commands`` table lists every command it plays.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path

from agent.storage import image_format
from agent.storage.allowlist import Allowlist, Invocation
from agent.storage.datacopy import copy_range
from agent.storage.lvm_reply import EINVALID_CMD_LINE, Reply
from agent.storage.lvm_report import (
    LV_FIELDS,
    PV_FIELDS,
    VG_FIELDS,
    lv_attr,
    lvm_size,
    report,
    report_columns,
    vg_row,
)
from agent.storage.runner import BaseRunner, Sink
from agent.storage.simtarget import SimulatedTargets
from agent.storage.simvg import SECTOR, GiB, KiB, LogicalVolume, MiB, SimulatedVolumeGroup


class SimulatedRunner(BaseRunner):
    """Answers the allowed commands from a :class:`SimulatedVolumeGroup`, as LVM 2.03, GNU dd
    and qemu-img would: same output layout, same messages, same exit codes."""

    def __init__(
        self,
        vg: SimulatedVolumeGroup,
        *,
        allowlist: Allowlist | None = None,
        sink: Sink | list | None = None,
        volumes_dir: Path | None = None,
    ) -> None:
        super().__init__(allowlist=allowlist, sink=sink)
        self.vg = vg
        # The host's iSCSI targets (tgtd includes ``volumes_dir``, where Cinder writes them).
        self.targets = SimulatedTargets(
            vg.data_dir, volumes_dir or vg.data_dir / "volumes", self._device_size
        )
        # Everything simulated, by the allowlist's command name.
        self.commands: dict[str, Callable[[Invocation], Reply]] = {
            "lvm version": self._lvm_version,
            "lvcreate": self._lvcreate,
            "lvextend": self._lvextend,
            "lvremove": self._lvremove,
            "lvchange": self._lvchange,
            "lvconvert": self._lvconvert,
            "lvrename": self._lvrename,
            "lvs": self._lvs,
            "lvdisplay": self._lvs,  # `lvdisplay -C` is the lvs report
            "vgs": self._vgs,
            "pvs": self._pvs,
            "dd": self._dd,
            "qemu-img info": self._qemu_img_info,
            "qemu-img convert": self._qemu_img_convert,
            **self.targets.commands(),
        }

    def remote_path(self, device: str) -> str:
        """Another backend's runner plays another volume group: it reaches this LV through its
        data file (the device, if the LV is not active)."""
        path = self.vg.resolve_device(device)
        return device if path is None else str(path)

    def _execute(self, invocation: Invocation) -> tuple[str, str, int]:
        answer = self.commands.get(invocation.command)
        if answer is None:  # allowed by a custom allowlist, but nothing here plays it
            return "", f"{invocation.command}: command not found\n", 127
        reply = answer(invocation)
        if reply.exit_code == EINVALID_CMD_LINE and invocation.command.startswith("lv"):
            reply.warn(f"Run `{invocation.command} --help' for more information.")
        return _lines(reply.stdout), _lines(reply.stderr), reply.exit_code

    # ------------------------------------------------------------------------------- LVM

    def _lvm_version(self, invocation: Invocation) -> Reply:
        reply = Reply()
        reply.say("LVM version:     2.03.16(2) (2022-05-18)")
        reply.say("Library version: 1.02.185 (2022-05-18)")
        reply.say("Driver version:  4.48.0")
        reply.say("Configuration:   simulated volume group (agent.storage.simvg)")
        return reply

    def _lvcreate(self, invocation: Invocation) -> Reply:
        opts, target = invocation.options, invocation.positionals[0]
        vg_name, _, lv_name = target.partition("/")
        if vg_name != self.vg.vg_name:
            return _vg_not_found(vg_name)
        try:
            size = lvm_size(opts["--size"]) if "--size" in opts else None
            virtual = lvm_size(opts["--virtualsize"]) if "--virtualsize" in opts else None
        except ValueError as error:
            return Reply().fail(str(error), EINVALID_CMD_LINE)
        name = str(opts.get("--name") or self._unused_name())  # LVM's own default: lvol<N>
        if opts.get("--snapshot"):
            if not lv_name:
                return Reply().fail(
                    "Please specify a logical volume to act as the snapshot origin.",
                    EINVALID_CMD_LINE,
                )
            return self.vg.create_snapshot(name, lv_name, size)
        if opts.get("--thin") and virtual is not None:
            return self.vg.create_thin_lv(name, virtual, lv_name or f"{vg_name}-pool")
        if opts.get("--thin") and size is not None and lv_name:
            return self.vg.create_thin_pool(lv_name, size)
        if size is None:
            return Reply().fail("Please specify either size or extents.", EINVALID_CMD_LINE)
        if lv_name:
            return Reply().fail(
                f'Inconsistent volume group names given: "{vg_name}" and "{self.vg.vg_name}"',
                EINVALID_CMD_LINE,
            )
        return self.vg.create_lv(name, size)

    def _unused_name(self) -> str:
        taken = {lv.name for lv in self.vg.logical_volumes()}
        return next(f"lvol{n}" for n in range(len(taken) + 1) if f"lvol{n}" not in taken)

    def _lvremove(self, invocation: Invocation) -> Reply:
        vg_name, lv_name = _split_lv(invocation.positionals[0])
        if vg_name != self.vg.vg_name:
            return _vg_not_found(vg_name)
        return self.vg.remove_lv(lv_name)

    def _lvextend(self, invocation: Invocation) -> Reply:
        vg_name, lv_name = _split_lv(invocation.positionals[0])
        if vg_name != self.vg.vg_name:
            return _vg_not_found(vg_name)
        try:
            size = lvm_size(str(invocation.options["--size"]))
        except ValueError as error:
            return Reply().fail(str(error), EINVALID_CMD_LINE)
        return self.vg.extend_lv(lv_name, size)

    def _lvchange(self, invocation: Invocation) -> Reply:
        opts = invocation.options
        vg_name, lv_name = _split_lv(invocation.positionals[0])
        if vg_name != self.vg.vg_name:
            return _vg_not_found(vg_name)
        skip = opts.get("--setactivationskip")
        return self.vg.change_activation(
            lv_name,
            activate=opts["--activate"] != "n",
            ignore_skip=bool(opts.get("--ignoreactivationskip")),
            set_skip=None if skip is None else skip == "y",
        )

    def _lvconvert(self, invocation: Invocation) -> Reply:
        vg_name, lv_name = _split_lv(invocation.positionals[0])
        if vg_name != self.vg.vg_name:
            return _vg_not_found(vg_name)
        return self.vg.merge_snapshot(lv_name)

    def _lvrename(self, invocation: Invocation) -> Reply:
        vg_name, old, new = invocation.positionals
        if vg_name != self.vg.vg_name:
            return _vg_not_found(vg_name)
        return self.vg.rename_lv(old, new)

    def _vgs(self, invocation: Invocation) -> Reply:
        reply = Reply()
        row = vg_row(self.vg.info())
        rows = []
        for name in invocation.positionals or [self.vg.vg_name]:
            if name != self.vg.vg_name:
                _vg_not_found(name, reply)
            else:
                rows.append(row)
        columns = report_columns(
            invocation, "vg_name,pv_count,lv_count,snap_count,vg_attr,vg_size,vg_free"
        )
        return report(reply, invocation, columns, VG_FIELDS, rows)

    def _pvs(self, invocation: Invocation) -> Reply:
        row = {**vg_row(self.vg.info()), "pv_name": str(self.vg.data_dir)}
        wanted = invocation.positionals
        rows = [row] if not wanted or str(self.vg.data_dir) in wanted else []
        reply = Reply()
        for missing in set(wanted) - {str(self.vg.data_dir)}:
            reply.fail(f'Failed to find physical volume "{missing}".')
        columns = report_columns(invocation, "pv_name,vg_name,pv_size,pv_free")
        return report(reply, invocation, columns, PV_FIELDS, rows)

    def _lvs(self, invocation: Invocation) -> Reply:
        """``lvs`` and ``lvdisplay -C`` (the same report)."""
        reply = Reply()
        columns = report_columns(
            invocation, "lv_name,vg_name,lv_attr,lv_size,pool_lv,origin,data_percent"
        )
        lvs, info = self.vg.lvs_and_info()
        chosen: list[LogicalVolume] = []
        for target in invocation.positionals or [self.vg.vg_name]:
            vg_name, _, lv_name = target.removeprefix("/dev/").partition("/")
            if vg_name != self.vg.vg_name:
                _vg_not_found(vg_name, reply)
            elif not lv_name:
                chosen += lvs.values()
            elif lv_name in lvs:
                chosen.append(lvs[lv_name])
            else:
                reply.fail(f'Failed to find logical volume "{vg_name}/{lv_name}"')
        # Only the columns asked for: lv_attr looks at every other LV and Data% reads the
        # data files, so a whole-group listing (Cinder's get_volumes after every delete)
        # computing them for every row grew with the square of the LVs.
        wanted = {LV_FIELDS[c].key for c in columns if c in LV_FIELDS}
        rows = [self._lv_row(lv, lvs, info, wanted) for lv in chosen]
        return report(reply, invocation, columns, LV_FIELDS, rows)

    def _lv_row(
        self, lv: LogicalVolume, lvs: dict[str, LogicalVolume], info: dict, wanted: set[str]
    ) -> dict:
        size = lv.extents * info["extent_bytes"]
        row = {
            "vg_name": info["name"],
            "lv_name": lv.name,
            "lv_size": size,
            "origin": lv.origin or "",
            "pool_lv": lv.pool or "",
            "lv_path": f"/dev/{info['name']}/{lv.name}",
        }
        if "lv_attr" in wanted:
            row["lv_attr"] = lv_attr(lv, lvs)
        if "data_percent" in wanted:
            row["data_percent"] = self._data_percent(lv, size)
        return row

    def _data_percent(self, lv: LogicalVolume, size: int) -> str:
        if lv.lv_type == "thin-pool":
            return f"{self.vg.data_percent(lv.name):.2f}"
        if lv.lv_type == "thin":
            return f"{100 * self.vg.allocated_bytes(lv.name) / size:.2f}"
        return "0.00" if lv.lv_type == "snapshot" else ""

    # -------------------------------------------------------------------------- dd, qemu-img

    def _dd(self, invocation: Invocation) -> Reply:
        ops = {k: str(v) for k, v in invocation.options.items()}
        reply = Reply()
        source, target = ops["if"], ops["of"]
        src = None if source == "/dev/zero" else self._open_path(source)
        dst = self._open_path(target)
        for name, path in ((source, src), (target, dst)):
            if path is None and name != "/dev/zero":
                reply.stderr.append(f"dd: failed to open '{name}': No such file or directory")
                reply.exit_code = 1
                return reply
        assert dst is not None
        block = _dd_bytes(ops.get("bs", "512"))
        iflags = set(ops.get("iflag", "").split(","))
        wanted = None
        if "count" in ops:
            wanted = int(ops["count"]) * (1 if "count_bytes" in iflags else block)
        available = None if src is None else src.stat().st_size
        limits = [n for n in (wanted, available) if n is not None]
        length = min(limits) if limits else None  # None: until the device is full
        room = dst.stat().st_size
        started = time.perf_counter()
        copied = room if length is None else min(length, room)
        if copied:
            copy_range(src, dst, copied, sparse="sparse" in ops.get("conv", "").split(","))
        seconds = max(time.perf_counter() - started, 1e-6)
        if length is None or length > room:
            reply.stderr.append(f"dd: error writing '{target}': No space left on device")
            reply.exit_code = 1
        full, partial = divmod(copied, block)
        records = f"{full}+{1 if partial else 0}"
        reply.stderr += [f"{records} records in", f"{records} records out"]
        sizes = f" ({_human(copied, 1000)}, {_human(copied, 1024)})" if copied >= 1000 else ""
        rate = _human(copied / seconds, 1000)
        reply.stderr.append(f"{copied} bytes{sizes} copied, {seconds:.3g} s, {rate}/s")
        return reply

    def _qemu_img_info(self, invocation: Invocation) -> Reply:
        path_text = invocation.positionals[0]
        path = self._open_path(path_text)
        reply = Reply()
        if path is None:
            return _qemu_cannot_open(reply, path_text)
        facts = _image_facts(path)
        fmt = str(invocation.options.get("-f", facts.format))
        if fmt != facts.format and fmt != "raw":
            reply.stderr.append(
                f"qemu-img: Could not open '{path_text}': Image is not in {fmt} format"
            )
            reply.exit_code = 1
            return reply
        info = {
            "virtual-size": path.stat().st_size if fmt == "raw" else facts.virtual_size,
            "filename": path_text,
            "format": fmt,
            "actual-size": path.stat().st_blocks * SECTOR,
            "dirty-flag": False,
        }
        if fmt == "qcow2" and facts.backing_file is not None:
            info["backing-filename"] = facts.backing_file
        if fmt == "qcow2" and facts.data_file is not None:
            info["format-specific"] = {"type": "qcow2", "data": {"data-file": facts.data_file}}
        reply.stdout.append(json.dumps(info, indent=4))
        return reply

    def _qemu_img_convert(self, invocation: Invocation) -> Reply:
        source, target = invocation.positionals
        reply = Reply()
        src = self._open_path(source)
        if src is None:
            return _qemu_cannot_open(reply, source)
        dst = self.vg.resolve_device(target)
        if dst is None:
            return _qemu_cannot_open(reply, target)
        detected = _image_facts(src).format
        fmt = str(invocation.options.get("-f", detected))
        if fmt != "raw" or detected != "raw":
            reply.stderr.append(
                f"qemu-img: the simulated volume group converts raw images only (got {detected})"
            )
            reply.exit_code = 1
            return reply
        size, room = src.stat().st_size, dst.stat().st_size
        copy_range(src, dst, min(size, room))
        if size > room:
            reply.stderr.append(
                f"qemu-img: error while writing at byte {room}: No space left on device"
            )
            reply.exit_code = 1
        return reply

    def _device_size(self, device: str) -> int | None:
        path = self.vg.resolve_device(device)
        return path.stat().st_size if path is not None else None

    def _open_path(self, text: str) -> Path | None:
        """An LV device (if active) or a host file (images, another backend's LV); None if it
        does not exist."""
        if text.startswith("/dev/"):
            return self.vg.resolve_device(text)
        path = Path(text)
        return path if path.is_file() else None


def _split_lv(text: str) -> tuple[str, str]:
    vg_name, _, lv_name = text.removeprefix("/dev/").partition("/")
    return vg_name, lv_name


def _vg_not_found(name: str, reply: Reply | None = None) -> Reply:
    reply = reply or Reply()
    reply.fail(f'Volume group "{name}" not found')
    reply.warn(f"Cannot process volume group {name}")
    return reply


def _lines(lines: list[str]) -> str:
    return "".join(f"{line}\n" for line in lines)


# --------------------------------------------------------------------- dd and qemu-img


def _dd_bytes(text: str) -> int:
    factors = {"": 1, "k": KiB, "K": KiB, "M": MiB, "G": GiB}
    match = re.fullmatch(r"(\d+)([kKMG]?)", text)
    assert match, text  # the allowlist only lets these through
    return int(match.group(1)) * factors[match.group(2)]


def _human(amount: float, base: int) -> str:
    """coreutils' dd summary sizes: '1.1 GB' (base 1000) or '1.0 GiB' (base 1024)."""
    units = (
        ["B", "kB", "MB", "GB", "TB", "PB"]
        if base == 1000
        else ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
    )
    index = 0
    while index < len(units) - 1 and amount >= base:
        amount /= base
        index += 1
    text = f"{amount:.1f}" if amount < 10 else f"{amount:.0f}"
    return f"{text} {units[index]}"


def _image_facts(path: Path) -> image_format.ImageFacts:
    """What qemu-img would read in the header (a header it cannot read: a raw file)."""
    try:
        return image_format.inspect(path)
    except image_format.ImageUnreadable:
        return image_format.ImageFacts("raw", path.stat().st_size)


def _qemu_cannot_open(reply: Reply, path: str) -> Reply:
    reply.stderr.append(
        f"qemu-img: Could not open '{path}': Could not open '{path}': No such file or directory"
    )
    reply.exit_code = 1
    return reply
