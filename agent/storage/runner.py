"""Command runners: what ``processutils.execute`` behind ``cinder-rootwrap`` is to Cinder.

Every command first passes the :class:`Allowlist` (rootwrap's ``volume.filters`` in spirit: the
LVM query and create commands only as ``env LC_ALL=C <cmd>``, ``lvremove``/``lvchange``/``dd``
plainly, ``ionice``/``cgexec`` chaining to an allowed command), with argument rules on top. A
refused command is logged, recorded, and raised as :class:`CommandNotAllowed` with rootwrap's
exit code 99. Then either :class:`RealRunner` runs it with ``subprocess``, or
:class:`SimulatedRunner` answers it from a :class:`SimulatedVolumeGroup` the way LVM, dd and
qemu-img would. Both record every command they ran (``CommandResult.to_dict()``) into an
optional sink, and raise :class:`ProcessExecutionError` carrying the result on a non-zero exit.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shlex
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

from agent.storage.allowlist import Allowlist, Invocation, Refused
from agent.storage.datacopy import copy_range
from agent.storage.lvm_reply import EINVALID_CMD_LINE, Reply
from agent.storage.simvg import SECTOR, GiB, KiB, LogicalVolume, MiB, SimulatedVolumeGroup

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


class SimulatedRunner(BaseRunner):
    """Answers the allowed commands from a :class:`SimulatedVolumeGroup`, as LVM 2.03, GNU dd
    and qemu-img would: same output layout, same messages, same exit codes."""

    def __init__(
        self,
        vg: SimulatedVolumeGroup,
        *,
        allowlist: Allowlist | None = None,
        sink: Sink | list | None = None,
    ) -> None:
        super().__init__(allowlist=allowlist, sink=sink)
        self.vg = vg

    def _execute(self, invocation: Invocation) -> tuple[str, str, int]:
        handler = getattr(self, "_" + invocation.command.replace(" ", "_").replace("-", "_"), None)
        if handler is None:  # allowed by a custom allowlist, but nothing here plays it
            return "", f"{invocation.command}: command not found\n", 127
        reply: Reply = handler(invocation)
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
            size = _lvm_size(opts["--size"]) if "--size" in opts else None
            virtual = _lvm_size(opts["--virtualsize"]) if "--virtualsize" in opts else None
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
            size = _lvm_size(str(invocation.options["--size"]))
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

    def _vgs(self, invocation: Invocation) -> Reply:
        reply = Reply()
        row = _vg_row(self.vg.info())
        rows = []
        for name in invocation.positionals or [self.vg.vg_name]:
            if name != self.vg.vg_name:
                _vg_not_found(name, reply)
            else:
                rows.append(row)
        columns = _columns(
            invocation, "vg_name,pv_count,lv_count,snap_count,vg_attr,vg_size,vg_free"
        )
        return _report(reply, invocation, columns, _VG_FIELDS, rows)

    def _pvs(self, invocation: Invocation) -> Reply:
        row = {**_vg_row(self.vg.info()), "pv_name": str(self.vg.data_dir)}
        wanted = invocation.positionals
        rows = [row] if not wanted or str(self.vg.data_dir) in wanted else []
        reply = Reply()
        for missing in set(wanted) - {str(self.vg.data_dir)}:
            reply.fail(f'Failed to find physical volume "{missing}".')
        columns = _columns(invocation, "pv_name,vg_name,pv_size,pv_free")
        return _report(reply, invocation, columns, _PV_FIELDS, rows)

    def _lvs(self, invocation: Invocation) -> Reply:
        """``lvs`` and ``lvdisplay -C`` (the same report)."""
        reply = Reply()
        columns = _columns(
            invocation, "lv_name,vg_name,lv_attr,lv_size,pool_lv,origin,data_percent"
        )
        lvs = {lv.name: lv for lv in self.vg.logical_volumes()}
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
        info = self.vg.info()
        rows = [self._lv_row(lv, lvs, info) for lv in chosen]
        return _report(reply, invocation, columns, _LV_FIELDS, rows)

    _lvdisplay = _lvs

    def _lv_row(self, lv: LogicalVolume, lvs: dict[str, LogicalVolume], info: dict) -> dict:
        extent = info["extent_bytes"]
        size = lv.extents * extent
        if lv.lv_type == "thin-pool":
            data = f"{self.vg.data_percent(lv.name):.2f}"
        elif lv.lv_type == "thin":
            data = f"{100 * self.vg.allocated_bytes(lv.name) / size:.2f}"
        elif lv.lv_type == "snapshot":
            data = "0.00"
        else:
            data = ""
        return {
            "vg_name": info["name"],
            "lv_name": lv.name,
            "lv_size": size,
            "lv_attr": _lv_attr(lv, lvs),
            "origin": lv.origin or "",
            "pool_lv": lv.pool or "",
            "data_percent": data,
            "lv_path": f"/dev/{info['name']}/{lv.name}",
        }

    # -------------------------------------------------------------------------- dd, qemu-img

    def _dd(self, invocation: Invocation) -> Reply:
        ops = {k: str(v) for k, v in invocation.options.items()}
        reply = Reply()
        source, target = ops["if"], ops["of"]
        src = None if source == "/dev/zero" else self._open_path(source)
        dst = self.vg.resolve_device(target)
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
        detected, virtual = _image_format(path)
        fmt = str(invocation.options.get("-f", detected))
        if fmt != detected and fmt != "raw":
            reply.stderr.append(
                f"qemu-img: Could not open '{path_text}': Image is not in {fmt} format"
            )
            reply.exit_code = 1
            return reply
        if fmt == "raw":
            virtual = path.stat().st_size
        info = {
            "virtual-size": virtual,
            "filename": path_text,
            "format": fmt,
            "actual-size": path.stat().st_blocks * SECTOR,
            "dirty-flag": False,
        }
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
        detected, _ = _image_format(src)
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

    def _open_path(self, text: str) -> Path | None:
        """An LV device (if active) or a host file (images); None if it does not exist."""
        if text.startswith("/dev/"):
            return self.vg.resolve_device(text)
        path = Path(text)
        return path if path.is_file() else None


# ---------------------------------------------------------------------- LVM report helpers


@dataclass(frozen=True)
class _Field:
    heading: str
    key: str
    kind: Literal["text", "size", "number"]


def _fields(*entries: tuple[str, str, str, str]) -> dict[str, _Field]:
    """(name, alias, heading, kind): both the full and the short column name work, as in LVM."""
    table: dict[str, _Field] = {}
    for name, alias, heading, kind in entries:
        table[name] = table[alias] = _Field(heading, name, kind)  # type: ignore[arg-type]
    return table


_VG_FIELDS = _fields(
    ("vg_name", "name", "VG", "text"),
    ("vg_size", "size", "VSize", "size"),
    ("vg_free", "free", "VFree", "size"),
    ("lv_count", "lv_count", "#LV", "number"),
    ("pv_count", "pv_count", "#PV", "number"),
    ("snap_count", "snap_count", "#SN", "number"),
    ("vg_uuid", "uuid", "VG UUID", "text"),
    ("vg_attr", "attr", "Attr", "text"),
    ("vg_extent_size", "extent_size", "Ext", "size"),
    ("vg_extent_count", "extent_count", "#Ext", "number"),
    ("vg_free_count", "free_count", "Free", "number"),
)
_PV_FIELDS = _fields(
    ("pv_name", "name", "PV", "text"),
    ("vg_name", "vg_name", "VG", "text"),
    ("pv_size", "size", "PSize", "size"),
    ("pv_free", "free", "PFree", "size"),
)
_LV_FIELDS = _fields(
    ("lv_name", "name", "LV", "text"),
    ("vg_name", "vg_name", "VG", "text"),
    ("lv_size", "size", "LSize", "size"),
    ("lv_attr", "attr", "Attr", "text"),
    ("origin", "origin", "Origin", "text"),
    ("pool_lv", "pool_lv", "Pool", "text"),
    ("data_percent", "data_percent", "Data%", "number"),
    ("lv_path", "path", "Path", "text"),
)


def _vg_row(info: dict) -> dict:
    return {
        "vg_name": info["name"],
        "vg_size": info["size_bytes"],
        "vg_free": info["free_bytes"],
        "lv_count": info["lv_count"],
        "pv_count": 1,
        "snap_count": info["snap_count"],
        "vg_uuid": info["uuid"],
        "vg_attr": "wz--n-",
        "vg_extent_size": info["extent_bytes"],
        "vg_extent_count": info["extent_count"],
        "vg_free_count": info["free_count"],
        "pv_size": info["size_bytes"],
        "pv_free": info["free_bytes"],
    }


def _columns(invocation: Invocation, default: str) -> list[str]:
    return str(invocation.options.get("--options", default)).lower().split(",")


def _report(
    reply: Reply,
    invocation: Invocation,
    columns: list[str],
    fields: dict[str, _Field],
    rows: list[dict],
) -> Reply:
    """Lay rows out as lvs/vgs/pvs do: two-space indent, aligned columns (text left, numbers
    right) or fields joined by --separator; sizes in --units, with or without suffix."""
    chosen = []
    for column in columns:
        if column not in fields:
            return reply.fail(f"Unrecognised field: {column}", EINVALID_CMD_LINE)
        chosen.append(fields[column])
    opts = invocation.options
    units = str(opts.get("--units", "h"))
    suffix = not opts.get("--nosuffix")
    table = []
    for row in rows:
        cells = []
        for f in chosen:
            value = row.get(f.key, "")
            cells.append(_format_size(value, units, suffix) if f.kind == "size" else str(value))
        table.append(cells)
    headings = [f.heading for f in chosen]
    separator = opts.get("--separator")
    lines: list[list[str]] = ([] if opts.get("--noheadings") else [headings]) + table
    if isinstance(separator, str):
        reply.stdout += ["  " + separator.join(cells) for cells in lines]
        return reply
    widths = [max(len(cells[i]) for cells in [headings, *table]) for i in range(len(chosen))]
    for cells in lines:
        laid = [
            cell.ljust(width) if f.kind == "text" else cell.rjust(width)
            for cell, width, f in zip(cells, widths, chosen, strict=True)
        ]
        reply.stdout.append(("  " + " ".join(laid)).rstrip())
    return reply


def _format_size(size_bytes: object, units: str, suffix: bool) -> str:
    size = float(size_bytes)  # type: ignore[arg-type]
    if units in "hH":
        base = 1024 if units == "h" else 1000
        letters = "bkmgtpe" if units == "h" else "BKMGTPE"
        index = 0
        while index < len(letters) - 1 and size >= base:
            size /= base
            index += 1
        return f"{size:.2f}" + (letters[index] if suffix else "")
    # LVM: lower-case units are powers of 1024, upper-case ones powers of 1000.
    power = "bkmgtpe".index(units.lower()) if units.lower() != "s" else None
    if power is None:
        return str(int(size // SECTOR)) + ("S" if suffix else "")
    base = 1024 if units.islower() else 1000
    value = size / base**power
    text = str(int(value)) if power == 0 else f"{value:.2f}"
    return text + (units if suffix else "")


def _lv_attr(lv: LogicalVolume, lvs: dict[str, LogicalVolume]) -> str:
    """lv_attr's ten characters: the ones Cinder reads are [0] (o: origin, s: snapshot),
    [4] (a: active) and [5] (o: open)."""
    has_cow = any(o.origin == lv.name and o.lv_type == "snapshot" for o in lvs.values())
    kind = {"thin-pool": "t", "thin": "V", "snapshot": "s"}.get(lv.lv_type, "o" if has_cow else "-")
    thin = lv.lv_type in ("thin", "thin-pool")
    pool_open = lv.lv_type == "thin-pool" and any(
        o.pool == lv.name and o.active for o in lvs.values()
    )
    target = "t" if thin else ("s" if kind in "os" else "-")
    return "".join(
        [
            kind,
            "w",
            "i",
            "-",
            "a" if lv.active else "-",
            "o" if pool_open else "-",
            target,
            "z" if thin else "-",
            "-",
            "k" if lv.skip_activation else "-",
        ]
    )


def _lvm_size(text: str) -> int:
    """An LVM size argument in bytes, rounded up to a sector. No suffix means MiB; the suffix
    case does not matter (both are powers of 1024 for sizes)."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([bBsSkKmMgGtTpPeE]?)", text)
    if not match:
        raise ValueError(f'Invalid argument for --size: "{text}"')
    number, unit = match.groups()
    factor = SECTOR if unit.lower() == "s" else 1024 ** "bkmgtpe".index((unit or "m").lower())
    size = Fraction(number) * factor
    if size == 0:
        raise ValueError("--size may not be zero.")
    sectors = -(-size // SECTOR)  # ceil
    return int(sectors) * SECTOR


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


# ------------------------------------------------------------------- dd and qemu-img helpers


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


def _image_format(path: Path) -> tuple[str, int]:
    """('qcow2', virtual size) when the file starts with qcow2's magic, else ('raw', size)."""
    with open(path, "rb") as image:
        header = image.read(32)
    if header[:4] == b"QFI\xfb" and len(header) >= 32:
        return "qcow2", int.from_bytes(header[24:32], "big")
    return "raw", path.stat().st_size


def _qemu_cannot_open(reply: Reply, path: str) -> Reply:
    reply.stderr.append(
        f"qemu-img: Could not open '{path}': Could not open '{path}': No such file or directory"
    )
    reply.exit_code = 1
    return reply


__all__ = [
    "CommandNotAllowed",
    "CommandResult",
    "ProcessExecutionError",
    "RealRunner",
    "SimulatedRunner",
]
