"""What an image file is, read from its own header before anything runs on it.

It plays Cinder's ``cinder/image/format_inspector.py``: a user's image is untrusted, and
a qcow2 file can name other files of the host (a ``backing_file``, an external
``data-file``) that ``qemu-img convert`` would then read into the tenant's volume (the
class of OSSA-2024-001). Cinder inspects the header itself and refuses such images, and a
format that is not the one the image claims, before ``qemu-img`` sees the file.

Only what Cinderlab's images can be is read: qcow2 (its version 2 and 3 headers and
header extensions) and raw.
"""

import struct
from dataclasses import dataclass
from pathlib import Path

QCOW2_MAGIC = b"QFI\xfb"
# Incompatible feature bit 2: the guest data lives in an external data file.
QCOW2_EXTERNAL_DATA = 1 << 2
QCOW2_EXT_DATA_FILE = 0x44415441  # header extension "DATA": the data file's name
QCOW2_EXT_END = 0


@dataclass(frozen=True)
class ImageFacts:
    format: str  # "qcow2" or "raw"
    virtual_size: int  # bytes
    backing_file: str | None = None
    data_file: str | None = None  # the name, or "" when the flag is set without one


class ImageUnreadable(ValueError):
    """The header says qcow2 but cannot be read as one."""


def inspect(path: Path) -> ImageFacts:
    """Read the image's header: its format, size, and any file it points at."""
    with open(path, "rb") as image:
        header = image.read(104)
        if header[:4] != QCOW2_MAGIC:
            return ImageFacts("raw", path.stat().st_size)
        if len(header) < 32:
            raise ImageUnreadable("qcow2 header is truncated")
        version, backing_offset, backing_size = struct.unpack(">IQI", header[4:20])
        (virtual_size,) = struct.unpack(">Q", header[24:32])
        backing = _read(image, backing_offset, backing_size) if backing_offset else None
        data_file = None
        if version >= 3:
            if len(header) < 104:
                raise ImageUnreadable("qcow2 version 3 header is truncated")
            (incompatible,) = struct.unpack(">Q", header[72:80])
            (header_length,) = struct.unpack(">I", header[100:104])
            extensions = _extensions(image, header_length)
            if incompatible & QCOW2_EXTERNAL_DATA or QCOW2_EXT_DATA_FILE in extensions:
                data_file = extensions.get(QCOW2_EXT_DATA_FILE, b"").decode(errors="replace")
    return ImageFacts("qcow2", virtual_size, backing, data_file)


def _read(image, offset: int, size: int) -> str:
    if size > 1023:  # qcow2 caps backing file names at 1023 bytes
        raise ImageUnreadable("qcow2 backing file name is too long")
    image.seek(offset)
    return image.read(size).decode(errors="replace")


def _extensions(image, offset: int) -> dict[int, bytes]:
    """Header extensions: (type, length, data padded to 8 bytes) until the end marker."""
    found: dict[int, bytes] = {}
    image.seek(offset)
    for _ in range(64):  # a real header has a handful
        raw = image.read(8)
        if len(raw) < 8:
            break
        kind, length = struct.unpack(">II", raw)
        if kind == QCOW2_EXT_END:
            break
        if length > 65536:
            raise ImageUnreadable("qcow2 header extension is too long")
        found[kind] = image.read(length)
        image.seek((8 - length % 8) % 8, 1)
    return found


def qcow2_header(
    virtual_size: int, backing_file: str = "", data_file: str = "", version: int = 3
) -> bytes:
    """A minimal qcow2 header (for tests and the simulated runner's examples)."""
    header_length = 104
    extensions = b""
    incompatible = 0
    if data_file:
        name = data_file.encode()
        extensions += struct.pack(">II", QCOW2_EXT_DATA_FILE, len(name)) + name
        extensions += b"\0" * ((8 - len(name) % 8) % 8)
        incompatible |= QCOW2_EXTERNAL_DATA
    extensions += struct.pack(">II", QCOW2_EXT_END, 0)
    backing = backing_file.encode()
    backing_offset = header_length + len(extensions) if backing else 0
    fields = struct.pack(">IQI", version, backing_offset, len(backing))
    fields += struct.pack(">I", 16) + struct.pack(">Q", virtual_size)  # cluster bits, size
    fields += b"\0" * (72 - 4 - len(fields))
    fields += struct.pack(">QQQI", incompatible, 0, 0, 4) + struct.pack(">I", header_length)
    return QCOW2_MAGIC + fields + extensions + backing
