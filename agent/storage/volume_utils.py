"""Volume helpers for drivers: what ``cinder/volume/volume_utils.py`` is to Cinder.

Cinder's name templates for volumes and snapshots, and the dd copies a driver makes through its
runner: :func:`copy_volume` (O_DIRECT probed first with ``dd count=0``) and :func:`clear_volume`
(zeros from ``/dev/zero`` over a volume before it is deleted).
"""

from __future__ import annotations

import logging
import time

from agent.storage.runner import ProcessExecutionError, Runner

LOG = logging.getLogger(__name__)

VOLUME_NAME_TEMPLATE = "volume-%s"
SNAPSHOT_NAME_TEMPLATE = "snapshot-%s"
MiB = 1024**2


def volume_name(volume_id: str) -> str:
    """Cinder's ``volume_name_template``."""
    return VOLUME_NAME_TEMPLATE % volume_id


def snapshot_name(snapshot_id: str) -> str:
    """Cinder's ``snapshot_name_template`` (the LV itself gets a leading ``_``)."""
    return SNAPSHOT_NAME_TEMPLATE % snapshot_id


def escape_snapshot(name: str) -> str:
    """LVM reserves names starting with ``snapshot``, so Cinder prefixes them with ``_``."""
    return "_" + name if name.startswith("snapshot") else name


def check_for_odirect_support(runner: Runner, src: str, dest: str, flag: str) -> bool:
    """Whether dd can open the pair with ``flag`` (``iflag=direct`` or ``oflag=direct``)."""
    if src == "/dev/zero" and flag == "iflag=direct":
        return False  # dd: failed to open '/dev/zero': Invalid argument
    try:
        runner.run(["dd", "count=0", f"if={src}", f"of={dest}", flag])
    except ProcessExecutionError:
        return False
    return True


def copy_volume(
    runner: Runner,
    src: str,
    dest: str,
    size_mib: int,
    blocksize: str,
    *,
    sync: bool = False,
    ionice: str | None = None,
    sparse: bool = False,
) -> None:
    """Probe O_DIRECT with ``dd count=0``, then ``dd if=<src> of=<dest> count=<bytes>
    bs=<blocksize> iflag=count_bytes[,direct] [oflag=direct] [conv=fdatasync,sparse]``."""
    cmd = ["ionice", ionice] if ionice else []
    cmd += ["dd", f"if={src}", f"of={dest}", f"count={size_mib * MiB}", f"bs={blocksize}"]
    odirect = check_for_odirect_support(runner, src, dest, "iflag=direct")
    cmd.append("iflag=count_bytes,direct" if odirect else "iflag=count_bytes")
    if check_for_odirect_support(runner, src, dest, "oflag=direct"):
        cmd.append("oflag=direct")
        odirect = True
    conv = []
    if sync and not odirect:
        conv.append("fdatasync")
    if sparse and src != "/dev/zero":  # a wipe must write its zeros
        conv.append("sparse")  # Cinder's sparse_copy_volume, for thin
    if conv:
        cmd.append("conv=" + ",".join(conv))
    started = time.monotonic()
    runner.run(cmd)
    seconds = max(time.monotonic() - started, 1.0)  # Cinder's floor, too
    LOG.info("Volume copy %.2f MB at %.2f MB/s", size_mib, size_mib / seconds)


def clear_volume(
    runner: Runner,
    size_gb: int,
    dev_path: str,
    *,
    volume_clear_size: int,
    volume_clear_ionice: str | None,
    blocksize: str,
) -> None:
    """dd from /dev/zero over the device, ``volume_clear_size`` MiB of it (0: all of it),
    synced."""
    size_mib = volume_clear_size or size_gb * 1024
    LOG.info("Performing secure delete on volume: %s", dev_path)
    copy_volume(
        runner, "/dev/zero", dev_path, size_mib, blocksize, sync=True, ionice=volume_clear_ionice
    )
