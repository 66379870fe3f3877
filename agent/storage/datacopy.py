"""Byte copies between sparse files: the data path under the simulated VG's snapshots and the
simulated ``dd`` and ``qemu-img`` (what the kernel and device-mapper do for real LVM).

Each simulated LV's data is a sparse file, so a copy walks the source's data and holes
(``SEEK_DATA``/``SEEK_HOLE``) rather than every byte, and writes zeros only where the
destination holds data.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path

_COPY_CHUNK = 4 * 1024**2


def _segments(fd: int, start: int, end: int) -> Iterator[tuple[int, int, bool]]:
    """(start, end, has_data) runs of a file between start and end, from SEEK_DATA/SEEK_HOLE."""
    pos = start
    while pos < end:
        try:
            data = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError as error:
            if error.errno == errno.ENXIO:  # only a hole from here to EOF
                data = end
            else:  # no SEEK_DATA on this filesystem: treat it all as data
                yield pos, end, True
                return
        data = min(data, end)
        if data > pos:
            yield pos, data, False
        if data >= end:
            return
        hole = min(os.lseek(fd, data, os.SEEK_HOLE), end)
        yield data, hole, True
        pos = hole


def copy_range(src: Path | None, dst: Path, length: int, *, sparse: bool = False) -> None:
    """Copy the first ``length`` bytes of ``src`` (None: /dev/zero) over the start of ``dst``.

    A hole in the source reads as zeros, so writing zeros over the destination is only needed
    where the destination holds data; elsewhere it already reads zero. That keeps a wipe's
    outcome exact (every byte reads 0 afterwards) without turning sparse files solid. ``sparse``
    is dd's ``conv=sparse``: leave the destination alone where the source is all zeros.
    """
    with contextlib.ExitStack() as files:
        out_fd = files.enter_context(open(dst, "r+b")).fileno()
        if src is None:
            in_fd = None
            runs = [(0, length, False)]
        else:
            in_fd = files.enter_context(open(src, "rb")).fileno()
            runs = list(_segments(in_fd, 0, length))
        for start, end, has_data in runs:
            if has_data and in_fd is not None:
                _copy_data(in_fd, out_fd, start, end)
            elif not sparse:
                for zstart, zend, dst_has_data in list(_segments(out_fd, start, end)):
                    if dst_has_data:
                        _write_zeros(out_fd, zstart, zend)


def _copy_data(in_fd: int, out_fd: int, start: int, end: int) -> None:
    pos = start
    while pos < end:
        chunk = os.pread(in_fd, min(_COPY_CHUNK, end - pos), pos)
        if not chunk:
            return
        os.pwrite(out_fd, chunk, pos)
        pos += len(chunk)


def _write_zeros(fd: int, start: int, end: int) -> None:
    zeros = bytes(_COPY_CHUNK)
    pos = start
    while pos < end:
        n = min(_COPY_CHUNK, end - pos)
        os.pwrite(fd, zeros[:n], pos)
        pos += n
