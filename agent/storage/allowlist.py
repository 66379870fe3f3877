"""Which commands the agent may run: cinder-rootwrap's ``volume.filters``, in spirit.

rootwrap matches a command against filters before running it as root; here an
:class:`Allowlist` does the same with one :class:`CommandSpec` per command. The LVM query and
create commands may only run as ``env LC_ALL=C <cmd>`` (rootwrap's EnvFilter), ``lvremove``,
``lvchange``, ``lvconvert``, ``lvrename`` and ``dd`` only plainly (CommandFilter), and
``ionice``/``cgexec`` only as a prefix to another allowed command (ChainingRegExpFilter).
Every argument must also match its pattern (names, sizes, LV device paths), as with
rootwrap's RegExpFilter. Every path must be plain (no ``.``, ``..`` or empty components), and
a path outside ``/dev`` must lie under one of the directories the agent owns (``file_roots``:
its data and image folders); dd writes a file only under ``write_roots`` (the backends'
data). A command that passes comes back as an :class:`Invocation`; one that does not raises
:class:`Refused`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Literal

_NAME = r"[A-Za-z0-9+_.][A-Za-z0-9+_.-]*"
_LV = rf"{_NAME}/{_NAME}"
_SIZE = r"\d+(\.\d+)?[bBsSkKmMgGtTpPeE]?"
_COLUMNS = r"[A-Za-z_%]+(,[A-Za-z_%]+)*"
_UNITS = r"[hHbBsSkKmMgGtTpPeE]"
_SEPARATOR = r"[:|,;]"
# An LV's device: /dev/mapper/<vg>-<lv> or /dev/<vg>/<lv>, never the kernel's own /dev folders.
_DEVICE = (
    r"/dev/(?!(shm|pts|fd|mqueue|hugepages|disk|char|block|bus|input|net|snd|cpu|dri|usb|vfio)/)"
    rf"(mapper/[A-Za-z0-9+_.-]+|{_NAME}/{_NAME})"
)
_FILE = r"/(?!dev/)(?!(.*/)?\.\.(/|$))[^\0]+"  # absolute, no '..', not a device node
_IMAGE_FORMAT = r"raw|qcow2|vmdk|vdi|vhdx|vpc|luks"
# iSCSI names (RFC 3720 iqn. and eui.), CHAP credentials as Cinder generates them, portals.
_IQN = r"iqn\.\d{4}-\d{2}\.[A-Za-z0-9.-]+(:[A-Za-z0-9.:_-]+)?|eui\.[0-9A-Fa-f]{16}"
_CHAP = r"[A-Za-z0-9]{1,255}"
_PORTALS = r"[0-9A-Fa-f.:\[\]]+(,[0-9A-Fa-f.:\[\]]+)*"
_REPORT_OPTIONS: dict[str, str | None] = {
    "--noheadings": None,
    "--units": _UNITS,
    "--options": _COLUMNS,
    "--separator": _SEPARATOR,
    "--nosuffix": None,
    "--readonly": None,
}
_REPORT_ALIASES = {"--unit": "--units", "-o": "--options", "--noheading": "--noheadings"}


class Refused(Exception):
    """Why the allowlist turned a command down."""


@dataclass(frozen=True)
class CommandSpec:
    """One allowed command: how it must be launched and which arguments it may take."""

    launch: Literal["env", "plain", "either"]  # rootwrap EnvFilter, CommandFilter, or both
    options: dict[str, str | None] = field(default_factory=dict)  # option -> value regex
    aliases: dict[str, str] = field(default_factory=dict)
    positional: str = ""  # regex each positional must match
    positionals: tuple[int, int] = (0, 0)  # min, max
    required: tuple[str, ...] = ()
    operands: bool = False  # dd style: every argument is key=value, options are the keys
    ordered: tuple[str, ...] = ()  # a regex per positional, in order (instead of `positional`)


SPECS: dict[str, CommandSpec] = {
    "lvcreate": CommandSpec(
        "env",
        {
            "--name": _NAME,
            "--size": _SIZE,
            "--virtualsize": _SIZE,
            "--thin": None,
            "--snapshot": None,
        },
        {"-n": "--name", "-L": "--size", "-V": "--virtualsize", "-T": "--thin", "-s": "--snapshot"},
        rf"{_NAME}(/{_NAME})?",
        (1, 1),
    ),
    "lvextend": CommandSpec("env", {"--size": _SIZE}, {"-L": "--size"}, _LV, (1, 1), ("--size",)),
    "lvremove": CommandSpec(
        "plain",
        {"--config": r"[a-z_ {}=0-9]+", "--force": None},
        {"-f": "--force"},
        _LV,
        (1, 1),
        ("--force",),
    ),
    "lvchange": CommandSpec(
        "plain",
        {
            "--activate": "y|n|ay",
            "--yes": None,
            "--ignoreactivationskip": None,
            "--setactivationskip": "y|n",
        },
        {"-a": "--activate", "-K": "--ignoreactivationskip", "-k": "--setactivationskip"},
        _LV,
        (1, 1),
        ("--activate",),
    ),
    # Cinder's privsep runs these two plainly (``lvconvert --merge <vg>/<snap>``, ``lvrename
    # <vg> <lv> <new>``): reverting to a snapshot and renaming a migrated volume.
    "lvconvert": CommandSpec("plain", {"--merge": None}, {}, _LV, (1, 1), ("--merge",)),
    "lvrename": CommandSpec("plain", positional=_NAME, positionals=(3, 3)),
    "lvs": CommandSpec(
        "env", _REPORT_OPTIONS, _REPORT_ALIASES, rf"{_NAME}(/{_NAME})?|/dev/{_LV}", (0, 16)
    ),
    "lvdisplay": CommandSpec(
        "env",
        {**_REPORT_OPTIONS, "--columns": None},
        {**_REPORT_ALIASES, "-C": "--columns"},
        rf"{_LV}|/dev/{_LV}",
        (1, 1),
        ("--columns",),
    ),
    "vgs": CommandSpec("env", _REPORT_OPTIONS, _REPORT_ALIASES, _NAME, (0, 16)),
    "pvs": CommandSpec(
        "env",
        {**_REPORT_OPTIONS, "--ignoreskippedcluster": None},
        _REPORT_ALIASES,
        r"/[^\0\s]+",  # read-only: any PV path
        (0, 16),
    ),
    "lvm version": CommandSpec("env"),
    "dd": CommandSpec(
        "plain",
        {
            "if": rf"/dev/zero|{_DEVICE}|{_FILE}",
            "of": rf"{_DEVICE}|{_FILE}",  # a file: only under the roots the agent writes
            "count": r"\d+",
            "bs": r"[1-9]\d*[kKMG]?",
            "iflag": r"(count_bytes|direct)(,(count_bytes|direct))*",
            "oflag": r"direct",
            "conv": r"(fdatasync|sparse)(,(fdatasync|sparse))*",
        },
        required=("if", "of"),
        operands=True,
    ),
    "qemu-img info": CommandSpec(
        "either",
        {"--output": "json", "-f": _IMAGE_FORMAT, "--force-share": None},
        {"-U": "--force-share"},
        rf"{_DEVICE}|{_FILE}",
        (1, 1),
    ),
    "qemu-img convert": CommandSpec(
        "either",
        {
            "-O": "raw",
            "-t": "none|writeback|writethrough|directsync|unsafe",
            "-S": r"\d+[kKmM]?",
            "-f": _IMAGE_FORMAT,
        },
        positional=rf"{_DEVICE}|{_FILE}",
        positionals=(2, 2),
        required=("-O",),
    ),
    # The iSCSI target helpers (rootwrap's volume.filters lists each as a CommandFilter).
    "tgt-admin": CommandSpec(
        "plain", {"--update": _IQN, "--delete": _IQN, "--show": None, "-f": None}, {"--force": "-f"}
    ),
    "tgtadm": CommandSpec(
        "plain",
        {
            "--lld": "iscsi|iser",
            "--op": "show|new|delete",
            "--mode": "target|logicalunit",
            "--tid": r"\d+",
            "--lun": r"\d+",
            "-b": _DEVICE,
        },
        {"--backing-store": "-b"},
        required=("--lld", "--op", "--mode"),
    ),
    "cinder-rtstool create": CommandSpec(
        "plain",
        {"-p": r"\d{1,5}", "-a": _PORTALS},
        positionals=(5, 5),
        ordered=(_DEVICE, _IQN, _CHAP, _CHAP, "True|False"),
    ),
    "cinder-rtstool add-initiator": CommandSpec(
        "plain", positionals=(4, 4), ordered=(_IQN, _CHAP, _CHAP, _IQN)
    ),
    "cinder-rtstool delete-initiator": CommandSpec(
        "plain", positionals=(2, 2), ordered=(_IQN, _IQN)
    ),
    "cinder-rtstool delete": CommandSpec("plain", positionals=(1, 1), ordered=(_IQN,)),
    "cinder-rtstool get-targets": CommandSpec("plain"),
    "cinder-rtstool save": CommandSpec("plain"),
    "cinder-rtstool restore": CommandSpec("plain"),
    "cinder-rtstool verify": CommandSpec("plain"),
}
_SUBCOMMAND_TOOLS = ("lvm", "qemu-img", "cinder-rtstool")
_ENV_VARS = {
    "LC_ALL": "C",
    "LVM_SYSTEM_DIR": _FILE,
    "LVM_SUPPRESS_FD_WARNINGS": r"\d",
}
# rootwrap's ChainingRegExpFilter entries: a prefix that runs another allowed command.
_CHAINS = {"ionice": (r"-c[0-3]", r"-n[0-7]"), "cgexec": (r"-g", r"blkio:\S+")}


@dataclass
class Invocation:
    """An allowed command, parsed."""

    argv: list[str]
    command: str  # "lvcreate", "lvm version", "qemu-img convert", ...
    env: dict[str, str]
    options: dict[str, str | bool]
    positionals: list[str]
    exec_positions: list[int]  # which argv items name an executable (for RealRunner)


class Allowlist:
    """Decides whether an argv may run; returns it parsed, or raises :class:`Refused`."""

    def __init__(
        self,
        specs: dict[str, CommandSpec] | None = None,
        file_roots: Iterable[str | PurePosixPath] = (),
        write_roots: Iterable[str | PurePosixPath] = (),
    ) -> None:
        self.specs = SPECS if specs is None else specs
        self.file_roots = tuple(PurePosixPath(root) for root in file_roots)
        # Where dd may write a file rather than a device: another backend's volume seen
        # from this host (a migration's copy), never the image store or the configuration.
        self.write_roots = tuple(PurePosixPath(root) for root in write_roots)

    def check(self, argv: Sequence[str]) -> Invocation:
        argv = list(argv)
        if not argv:
            raise Refused("empty command")
        exec_positions: list[int] = []
        i = self._skip_chains(argv, exec_positions)
        env: dict[str, str] = {}
        if i < len(argv) and argv[i] == "env":
            exec_positions.append(i)
            i += 1
            while i < len(argv) and "=" in argv[i]:
                key, _, value = argv[i].partition("=")
                pattern = _ENV_VARS.get(key)
                if pattern is None or not re.fullmatch(pattern, value):
                    raise Refused(f"env {argv[i]} is not allowed")
                env[key] = value
                i += 1
            if env.get("LC_ALL") != "C":
                raise Refused("commands run through env must set LC_ALL=C")
        if i >= len(argv):
            raise Refused("no command after its prefixes")
        exec_positions.append(i)
        command = argv[i]
        i += 1
        if command in _SUBCOMMAND_TOOLS and i < len(argv):
            command = f"{command} {argv[i]}"
            i += 1
        spec = self.specs.get(command)
        if spec is None:
            raise Refused(f"{command} is not on the allowlist")
        if spec.launch == "env" and not env:
            raise Refused(f"{command} must run as `env LC_ALL=C {command}`")
        if spec.launch == "plain" and env:
            raise Refused(f"{command} must not run through env")
        options, positionals = self._parse(spec, command, argv[i:])
        for value in [*env.values(), *options.values(), *positionals]:
            if isinstance(value, str) and value.startswith("/"):
                self._check_path(command, value)
        written = options.get("of")
        if isinstance(written, str) and not written.startswith("/dev/"):
            if not any(PurePosixPath(written).is_relative_to(r) for r in self.write_roots):
                raise Refused(f"dd: may not write {written!r}")
        return Invocation(argv, command, env, options, positionals, exec_positions)

    def _check_path(self, command: str, path: str) -> None:
        """The last line of defence: names are server-made, but a path that climbs out of
        where it claims to be, or a file the agent does not own, is never run."""
        if any(part in ("", ".", "..") for part in path.split("/")[1:]):
            raise Refused(f"{command}: {path!r} is not a plain path")
        if path.startswith("/dev/"):
            return
        if not any(PurePosixPath(path).is_relative_to(root) for root in self.file_roots):
            raise Refused(f"{command}: {path!r} is outside the agent's directories")

    @staticmethod
    def _skip_chains(argv: list[str], exec_positions: list[int]) -> int:
        i = 0
        while i < len(argv) and argv[i] in _CHAINS:
            first, second = _CHAINS[argv[i]]
            exec_positions.append(i)
            if argv[i] == "ionice":
                if i + 1 >= len(argv) or not re.fullmatch(first, argv[i + 1]):
                    raise Refused("ionice needs -c[0-3]")
                i += 2
                if i < len(argv) and re.fullmatch(second, argv[i]):
                    i += 1
            else:
                group = argv[i + 2] if i + 2 < len(argv) else ""
                if argv[i + 1 : i + 2] != [first] or not re.fullmatch(second, group):
                    raise Refused("cgexec needs -g blkio:<group>")
                i += 3
        return i

    @staticmethod
    def _parse(
        spec: CommandSpec, command: str, args: list[str]
    ) -> tuple[dict[str, str | bool], list[str]]:
        options: dict[str, str | bool] = {}
        positionals: list[str] = []
        i = 0
        while i < len(args):
            arg = args[i]
            i += 1
            if spec.operands:
                key, eq, value = arg.partition("=")
                pattern = spec.options.get(key)
                if not eq or pattern is None or not re.fullmatch(pattern, value):
                    raise Refused(f"{command}: operand {arg!r} is not allowed")
                options[key] = value
                continue
            if not arg.startswith("-") or arg == "-":
                pattern = _positional_pattern(spec, len(positionals))
                if not pattern or not re.fullmatch(pattern, arg):
                    raise Refused(f"{command}: argument {arg!r} is not allowed")
                positionals.append(arg)
                continue
            name, eq, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
            name = spec.aliases.get(name, name)
            if name not in spec.options and not arg.startswith("--") and spec.options.get(arg[:2]):
                name, eq, value = arg[:2], "=", arg[2:]  # getopt style: -p3260
            if name not in spec.options:
                raise Refused(f"{command}: option {arg!r} is not allowed")
            pattern = spec.options[name]
            if pattern is None:
                if eq:
                    raise Refused(f"{command}: option {name} takes no value")
                options[name] = True
                continue
            if not eq:
                if i >= len(args):
                    raise Refused(f"{command}: option {name} needs a value")
                value = args[i]
                i += 1
            if not re.fullmatch(pattern, value):
                raise Refused(f"{command}: {name} {value!r} is not allowed")
            options[name] = value
        low, high = spec.positionals
        if not low <= len(positionals) <= high:
            raise Refused(f"{command}: takes {low}..{high} arguments, got {len(positionals)}")
        missing = [name for name in spec.required if name not in options]
        if missing:
            raise Refused(f"{command}: {', '.join(missing)} is required")
        if command == "qemu-img convert" and not re.fullmatch(_DEVICE, positionals[-1]):
            raise Refused("qemu-img convert may only write to a logical volume")
        return options, positionals


def _positional_pattern(spec: CommandSpec, index: int) -> str:
    if spec.ordered:
        return spec.ordered[index] if index < len(spec.ordered) else ""
    return spec.positional


__all__ = ["SPECS", "Allowlist", "CommandSpec", "Invocation", "Refused"]
