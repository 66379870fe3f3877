"""LVM's reports, as ``lvs``, ``vgs``, ``pvs`` and ``lvdisplay -C`` lay them out.

The columns each report knows (full and short names, headings), their layout (aligned, or
joined by ``--separator``), sizes in ``--units`` with or without suffix, the ten ``lv_attr``
characters, and how LVM reads a ``--size`` argument. The simulated runner fills them from the
simulated volume group; Cinder's brick parses them back.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from agent.storage.allowlist import Invocation
from agent.storage.lvm_reply import EINVALID_CMD_LINE, Reply
from agent.storage.simvg import SECTOR, LogicalVolume


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


VG_FIELDS = _fields(
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
PV_FIELDS = _fields(
    ("pv_name", "name", "PV", "text"),
    ("vg_name", "vg_name", "VG", "text"),
    ("pv_size", "size", "PSize", "size"),
    ("pv_free", "free", "PFree", "size"),
)
LV_FIELDS = _fields(
    ("lv_name", "name", "LV", "text"),
    ("vg_name", "vg_name", "VG", "text"),
    ("lv_size", "size", "LSize", "size"),
    ("lv_attr", "attr", "Attr", "text"),
    ("origin", "origin", "Origin", "text"),
    ("pool_lv", "pool_lv", "Pool", "text"),
    ("data_percent", "data_percent", "Data%", "number"),
    ("lv_path", "path", "Path", "text"),
)


def vg_row(info: dict) -> dict:
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


def report_columns(invocation: Invocation, default: str) -> list[str]:
    return str(invocation.options.get("--options", default)).lower().split(",")


def report(
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
    size = _size_format(str(opts.get("--units", "h")), not opts.get("--nosuffix"))
    cells_of = [(f.key, size if f.kind == "size" else str) for f in chosen]
    table = [[form(row.get(key, "")) for key, form in cells_of] for row in rows]
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


def _size_format(units: str, suffix: bool) -> Callable[[object], str]:
    """How one report lays out its sizes (bytes in, text out) in ``units``: decided once per
    report, as a whole-group ``lvs`` lays out hundreds of them."""
    if units in "hH":
        base = 1024 if units == "h" else 1000
        letters = "bkmgtpe" if units == "h" else "BKMGTPE"

        def human(size_bytes: object) -> str:
            size = float(size_bytes)  # type: ignore[arg-type]
            index = 0
            while index < len(letters) - 1 and size >= base:
                size /= base
                index += 1
            return f"{size:.2f}" + (letters[index] if suffix else "")

        return human
    if units.lower() == "s":
        sectors = "S" if suffix else ""
        return lambda size_bytes: str(int(float(size_bytes) // SECTOR)) + sectors  # type: ignore[arg-type]
    end = units if suffix else ""
    # LVM: lower-case units are powers of 1024, upper-case ones powers of 1000.
    power = "bkmgtpe".index(units.lower())
    divisor = (1024 if units.islower() else 1000) ** power
    if power == 0:
        return lambda size_bytes: str(int(float(size_bytes))) + end  # type: ignore[arg-type]
    return lambda size_bytes: f"{float(size_bytes) / divisor:.2f}" + end  # type: ignore[arg-type]


def lv_attr(lv: LogicalVolume, lvs: dict[str, LogicalVolume]) -> str:
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


def lvm_size(text: str) -> int:
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
