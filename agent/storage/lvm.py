"""Cinder's LVM driver, in small: the same steps and the same command lines, through a runner.

It follows ``cinder/volume/drivers/lvm.py`` (LVMVolumeDriver 3.0.0): a thick volume is
``lvcreate -n volume-<id> <vg> -L <N>g``, a thin one ``lvcreate -T -V <N>g -n volume-<id>
<vg>/<vg>-pool``, a thick clone goes through a temporary snapshot and dd, and a delete zeroes
thick volumes first. The LVM commands are the brick's (:class:`agent.storage.brick.LVM`), the dd
copies ``volume_utils``'. Every command goes through the runner, so a caller can keep each line
and its output; any failure surfaces as :class:`LVMDriverError` with LVM's own words.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import math
import os
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from agent.storage import image_format
from agent.storage.brick import LVM
from agent.storage.exception import (
    ImageUnacceptable,
    LVMDriverError,
    VolumeBackendAPIException,
    VolumeDeviceNotFound,
    VolumeGroupNotFound,
    VolumeIsBusy,
)
from agent.storage.iscsi import ISCSITarget
from agent.storage.lio import LioAdm
from agent.storage.runner import CommandResult, ProcessExecutionError, Runner
from agent.storage.tgt import TgtAdm
from agent.storage.volume_utils import (
    check_for_odirect_support,
    clear_volume,
    copy_volume,
    escape_snapshot,
    volume_name,
)

LOG = logging.getLogger(__name__)

VERSION = "3.0.0"
MINIMUM_LVM_VERSION = (2, 2, 107)
GiB = 1024**3
TARGET_HELPERS: dict[str, type[ISCSITarget]] = {"tgtadm": TgtAdm, "lioadm": LioAdm}


def lvm_message(result: CommandResult) -> str:
    """What LVM (or dd, qemu-img) said went wrong, without the indentation and warnings."""
    lines = [line.strip() for line in result.stderr.splitlines()]
    said = [line for line in lines if line and not line.startswith("WARNING")]
    return " ".join(said) or f"{result.command_line} exited with {result.exit_code}"


# ---------------------------------------------------------------------------------- config


@dataclass
class LVMConfig:
    """The LVM driver's options, with Cinder's names and defaults (``lvm_type`` here defaults
    to ``default``; Cinder's ``auto`` is accepted too)."""

    volume_group: str = "cinder-volumes"
    lvm_type: Literal["default", "thin", "auto"] = "default"
    volume_clear: Literal["zero", "none"] = "zero"
    volume_clear_size: int = 0  # MiB; 0 means the whole volume
    volume_clear_ionice: str | None = None  # e.g. "-c3"
    volume_dd_blocksize: str = "1M"
    reserved_percentage: int = 0
    max_over_subscription_ratio: float | str = 20.0  # or "auto"
    volume_backend_name: str | None = None  # Cinder falls back to "LVM"
    backend_availability_zone: str | None = None
    extra_capabilities: dict = field(default_factory=dict)
    filter_function: str | None = None
    goodness_function: str | None = None
    lvm_conf_file: str | None = None  # used only if the file exists, as in Cinder
    lvm_suppress_fd_warnings: bool = False
    # The data path: how volumes are exported (cinder/volume/driver.py's target options).
    target_helper: Literal["tgtadm", "lioadm"] = "tgtadm"
    target_prefix: str = "iqn.2010-10.org.openstack:"
    target_ip_address: str = "127.0.0.1"  # Cinder: $my_ip
    target_secondary_ip_addresses: list[str] = field(default_factory=list)
    target_port: int = 3260
    target_protocol: Literal["iscsi", "iser"] = "iscsi"
    volumes_dir: str = "/var/lib/cinder/volumes"  # Cinder: $state_path/volumes
    iscsi_write_cache: Literal["on", "off"] = "on"
    iscsi_target_flags: str = ""

    def __post_init__(self) -> None:
        if self.lvm_type not in ("default", "thin", "auto"):
            raise ValueError(f"lvm_type must be default, thin or auto, not {self.lvm_type!r}")
        if self.volume_clear not in ("zero", "none"):
            raise ValueError(f"volume_clear must be zero or none, not {self.volume_clear!r}")
        if not 0 <= self.volume_clear_size <= 1024:
            raise ValueError("volume_clear_size is MiB between 0 and 1024")
        if not 0 <= self.reserved_percentage <= 100:
            raise ValueError("reserved_percentage is between 0 and 100")
        if self.target_helper not in TARGET_HELPERS:
            raise ValueError(f"target_helper must be tgtadm or lioadm, not {self.target_helper!r}")
        if self.target_protocol not in ("iscsi", "iser"):
            raise ValueError("target_protocol must be iscsi or iser")
        if self.iscsi_write_cache not in ("on", "off"):
            raise ValueError("iscsi_write_cache must be on or off")
        if not 1 <= int(self.target_port) <= 65535:
            raise ValueError("target_port is a port number")
        ratio = self.max_over_subscription_ratio
        if ratio != "auto":
            if not re.fullmatch(r"\d*\.\d+|\d+", str(ratio)):
                raise ValueError("max_over_subscription_ratio is a number or 'auto'")
            self.max_over_subscription_ratio = float(ratio)


# ---------------------------------------------------------------------------------- driver


class LVMDriver:
    """Cinder's LVMVolumeDriver over a command runner (real or simulated)."""

    VERSION = VERSION

    def __init__(self, runner: Runner, config: LVMConfig, hostname: str | None = None) -> None:
        self.runner = runner
        self.config = config
        self.hostname = hostname or socket.gethostname()
        self.backend_name = config.volume_backend_name or "LVM"
        self.vg_name = config.volume_group
        self.vg = LVM(
            runner,
            self.vg_name,
            lvm_conf_file=config.lvm_conf_file,
            suppress_fd_warnings=config.lvm_suppress_fd_warnings,
        )
        self.target = TARGET_HELPERS[config.target_helper](runner, config)
        self.initialized = False
        self._lvm_type: str | None = None if config.lvm_type == "auto" else config.lvm_type
        self._stats: dict = {}

    # ------------------------------------------------------------------------- setup

    @property
    def lvm_type(self) -> str:
        """``default`` or ``thin``; ``auto`` is settled on first use as Cinder settles it."""
        if self._lvm_type is None:
            # As coded in Cinder: with auto, brick is built as thin whenever LVM supports it and
            # creates the pool if missing, so the driver then finds a pool and picks thin.
            self._lvm_type = "thin" if self.vg.get_lvm_version() >= (2, 2, 95) else "default"
        return self._lvm_type

    @property
    def availability_zone(self) -> str | None:
        return self.config.backend_availability_zone

    def check_for_setup_error(self) -> None:
        """The volume group exists; for thin, the pool ``<vg>-pool`` exists (created at 95% of
        the free space if not) and is active."""
        with self._failures():
            version = self.vg.get_lvm_version()
            if version < MINIMUM_LVM_VERSION:
                LOG.warning(
                    "LVM version %s is lower than the minimum supported version: %s",
                    version,
                    MINIMUM_LVM_VERSION,
                )
            if not self.vg.vg_exists():
                raise VolumeGroupNotFound(f"Volume Group {self.vg_name} does not exist")
            if self.lvm_type == "thin":
                pool = self.vg.pool_name
                if self.vg.get_volume(pool) is None:
                    try:
                        self.vg.create_thin_pool()
                    except ProcessExecutionError as error:
                        # Another agent may have won the race to create it.
                        if self.vg.get_volume(pool) is None:
                            raise VolumeBackendAPIException(
                                "Failed to create thin pool, error message was: "
                                + lvm_message(error.result),
                                error.result,
                            ) from error
                self.vg.activate_lv(pool)
            self.vg.list_physical_volumes()
            self.target.check_for_setup_error()
        self.initialized = True

    # ------------------------------------------------------------------ volumes (create)

    def create_volume(self, volume_id: str, size_gb: int) -> str:
        """A new, empty logical volume; returns its name."""
        name = volume_name(volume_id)
        with self._failures():
            self.vg.create_volume(name, size_gb, self.lvm_type)
        return name

    def create_volume_from_snapshot(
        self, volume_id: str, size_gb: int, snapshot_name: str, snapshot_size_gb: int | None = None
    ) -> str:
        """A volume holding the snapshot's data. ``snapshot_name`` is Cinder's name
        (``snapshot-<id>``); its size is read from LVM unless given."""
        name = volume_name(volume_id)
        snap_lv = escape_snapshot(snapshot_name)
        with self._failures():
            snap_size = snapshot_size_gb or self._size_gb(snap_lv)
            if self.lvm_type == "thin":
                self.vg.create_lv_snapshot(name, snap_lv, self.lvm_type)
                if size_gb > snap_size:
                    self.vg.extend_volume(name, size_gb)
                # Some LVM setups do not activate thin snapshot LVs by themselves.
                self.vg.activate_lv(snap_lv, is_snapshot=True)
                self.vg.activate_lv(name, is_snapshot=True, permanent=True)
                return name
            self.vg.create_volume(name, size_gb, self.lvm_type)
            self.vg.activate_lv(snap_lv, is_snapshot=True)
            self._copy_volume(self.local_path(snap_lv), self.local_path(name), snap_size * 1024)
        return name

    def create_cloned_volume(
        self, volume_id: str, size_gb: int, src_volume_id: str, src_size_gb: int | None = None
    ) -> str:
        """A copy of another volume: a thin snapshot for thin; for thick a temporary snapshot
        ``clone-snap-<id>``, a new LV and a dd copy, the snapshot deleted whatever happens."""
        name = volume_name(volume_id)
        src = volume_name(src_volume_id)
        with self._failures():
            src_size = src_size_gb or self._size_gb(src)
            if self.lvm_type == "thin":
                self.vg.create_lv_snapshot(name, src, self.lvm_type)
                if size_gb > src_size:
                    self.vg.extend_volume(name, size_gb)
                self.vg.activate_lv(name, is_snapshot=True, permanent=True)
                return name
            LOG.info("Creating clone of volume: %s", src_volume_id)
            temp = f"clone-snap-{volume_id}"
            self.vg.create_lv_snapshot(temp, src, self.lvm_type)
            try:
                self.vg.create_volume(name, size_gb, self.lvm_type)
                self.vg.activate_lv(temp, is_snapshot=True)
                self._copy_volume(self.local_path(temp), self.local_path(name), src_size * 1024)
            finally:
                self._delete_snapshot_lv(temp, src_size)
        return name

    def copy_image_to_volume(
        self,
        volume_id: str,
        image_path: str | Path,
        size_gb: int | None = None,
        disk_format: str | None = None,
    ) -> dict:
        """Write an image into the volume as Cinder's fetch_to_raw does once the image is
        local: inspect its header, ``qemu-img info``, the checks, then ``qemu-img convert -O
        raw``. An image pointing at another file (a backing file, an external data file) or
        not in the format it claims (``disk_format``) is refused before qemu-img reads it.
        Returns the image's format and virtual size."""
        name = volume_name(volume_id)
        image = os.path.abspath(image_path)
        with self._failures():
            fmt = _inspected(Path(image), disk_format)
            info_cmd = ["env", "LC_ALL=C", "qemu-img", "info", "-f", fmt, "--output=json", image]
            info = json.loads(self.runner.run(info_cmd).stdout)
            _check_info(image, fmt, info)
            volume_size = size_gb or self._size_gb(name)
            image_size = math.ceil(float(info["virtual-size"]) / GiB)
            if image_size > volume_size:
                raise ImageUnacceptable(
                    f"Image {image} is unacceptable: Image virtual size is {image_size}GB"
                    f" and doesn't fit in a volume of size {volume_size}GB."
                )
            dest = self.local_path(name)
            cmd = ["qemu-img", "convert", "-O", "raw"]
            if check_for_odirect_support(self.runner, image, dest, "oflag=direct"):
                cmd += ["-t", "none"]  # make sure data hits the device (LP #1363016)
            self.runner.run([*cmd, "-f", fmt, image, dest])
        return {"format": fmt, "virtual_size": int(info["virtual-size"])}

    # ------------------------------------------------------------------ volumes (delete)

    def delete_volume(self, volume_id: str, size_gb: int | None = None) -> None:
        """Remove the volume's LV, zeroing it first when ``volume_clear`` says so and the LV
        is thick. Nothing to do if it is not there; refused while it has snapshots."""
        name = volume_name(volume_id)
        with self._failures():
            lv = self.vg.get_volume(name)
            if lv is None:
                return
            if self.vg.lv_has_snapshot(name):
                raise VolumeIsBusy(f"deleting volume {name} that has snapshot")
            size = size_gb or math.ceil(float(lv["size"]))
            self._delete_lv(name, size, is_snapshot=False)
        LOG.info("Successfully deleted volume: %s", volume_id)

    def extend_volume(self, volume_id: str, size_gb: int, volume: dict | None = None) -> None:
        """``lvextend -L <n>g <vg>/volume-<id>`` (brick deactivates an origin with snapshots);
        then, given the volume, its export learns the new size (``extend_target``)."""
        with self._failures():
            self.vg.extend_volume(volume_name(volume_id), size_gb)
            if volume is not None:
                self.target.extend_target(volume)

    # ------------------------------------------------------------------------ snapshots

    def create_snapshot(self, snapshot_name: str, volume_id: str) -> str:
        """``lvcreate --name _snapshot-<id> --snapshot <vg>/volume-<id> [-L <size>g]``; returns
        the snapshot LV's name."""
        lv = escape_snapshot(snapshot_name)
        with self._failures():
            self.vg.create_lv_snapshot(lv, volume_name(volume_id), self.lvm_type)
        return lv

    def delete_snapshot(self, snapshot_name: str, volume_size_gb: int | None = None) -> None:
        with self._failures():
            self._delete_snapshot_lv(escape_snapshot(snapshot_name), volume_size_gb)

    def _delete_snapshot_lv(self, lv: str, volume_size_gb: int | None) -> None:
        ref = self.vg.get_volume(lv)
        if ref is None:
            LOG.warning("snapshot: %s not found, skipping delete operations", lv)
            return
        size = volume_size_gb or math.ceil(float(ref["size"]))
        self._delete_lv(lv, size, is_snapshot=True)

    # ---------------------------------------------------------- revert, retype, migrate

    def snapshot_revert_use_temp_snapshot(self) -> bool:
        """The base driver's answer, which the LVM driver keeps: the manager takes a backup
        snapshot before reverting."""
        return True

    def revert_to_snapshot(self, volume_id: str, snapshot_name: str) -> None:
        """Thick: ``lvconvert --merge`` of the snapshot, the volume deactivated and activated
        again (a merge completes on activation), then the snapshot made again, since the merge
        consumed it. Thin raises NotImplementedError: the manager then reverts the generic way.
        ``volume_id`` is the id the LV is named after (``name_id`` after a migration)."""
        if self.lvm_type == "thin":
            raise NotImplementedError("Revert volume to snapshot not implemented for thin LVM.")
        name = volume_name(volume_id)
        with self._failures():
            self.vg.revert(escape_snapshot(snapshot_name))
            self.vg.deactivate_lv(name)
            self.vg.activate_lv(name)
        self.create_snapshot(snapshot_name, volume_id)

    def retype(self, volume_id: str) -> bool:
        """Nothing to change on an LVM volume when only its type changes: True."""
        LOG.debug("LVM retype called for volume %s. No action required for LVM volumes.", volume_id)
        return True

    def migrate_volume(self, volume_id: str) -> tuple[bool, dict | None]:
        """Cinder's LVM driver moves a volume itself only to another volume group of the same
        server (told by ``location_info``), with lvcreate and dd there. Each Cinderlab backend
        plays its own group, which no other backend's runner reaches as a local one, so the
        answer is always "not moved": the manager copies the generic, host-assisted way."""
        LOG.debug("Volume %s: no driver-assisted migration; the manager copies it", volume_id)
        return False, None

    def update_migrated_volume(
        self,
        volume_id: str,
        new_volume_id: str,
        new_name_id: str | None,
        new_provider_location: str,
        original_volume_status: str,
    ) -> dict:
        """On the destination, once the data is here: ``lvrename`` the new volume's LV to the
        original's name, so the original keeps its name (``name_id`` None). An attached volume
        is not renamed, nor one whose rename fails: the original then points at the new LV."""
        if original_volume_status == "available":
            try:
                self.vg.rename_volume(volume_name(new_volume_id), volume_name(volume_id))
            except ProcessExecutionError as error:
                LOG.error("Unable to rename the logical volume for volume: %s", volume_id)
                LOG.debug("lvrename said: %s", lvm_message(error.result))
            else:
                return {"name_id": None, "provider_location": None}
        return {
            "name_id": new_name_id or new_volume_id,
            "provider_location": new_provider_location,
        }

    def remote_path(self, volume_id: str) -> str:
        """Where another backend's commands on this machine reach the volume (Cinder attaches
        it over iSCSI to copy a migration's data)."""
        return self.runner.remote_path(self.local_path(volume_name(volume_id)))

    def copy_volume_data(self, volume_id: str, dest_path: str, size_gb: int, sparse: bool) -> None:
        """The manager's ``_copy_volume_data``: dd from this backend's volume to ``dest_path``
        with the clone path's flags (O_DIRECT probed, ``conv=sparse`` when the destination
        reports ``sparse_copy_volume``)."""
        with self._failures():
            copy_volume(
                self.runner,
                self.local_path(volume_name(volume_id)),
                dest_path,
                size_gb * 1024,
                self.config.volume_dd_blocksize,
                sparse=sparse,
            )

    # ------------------------------------------------------- the data path (exports)
    # A volume here is a plain dict: id, name, provider_location, provider_auth, and for
    # terminate_connection multiattach and its attachments' connectors.

    def validate_connector(self, connector: dict) -> None:
        self.target.validate_connector(connector)

    def create_export(self, volume: dict, connector: dict | None = None) -> dict:
        """Activate the LV and export it; returns the volume's new ``provider_location``
        and ``provider_auth``."""
        with self._failures():
            self.vg.activate_lv(volume["name"])
            export = self.target.create_export(volume, f"/dev/{self.vg_name}/{volume['name']}")
        return {"provider_location": export["location"], "provider_auth": export["auth"]}

    def remove_export(self, volume: dict) -> None:
        with self._failures():
            self.target.remove_export(volume)

    def initialize_connection(self, volume: dict, connector: dict) -> dict:
        with self._failures():
            return self.target.initialize_connection(volume, connector)

    def terminate_connection(self, volume: dict, connector: dict | None, force=False) -> bool:
        """Close the host's access; True if other attachments still share the export
        (then the caller keeps it). LVM has one export per volume."""
        attachments = volume.get("attachments", [])
        same_host = [
            a
            for a in attachments
            if a.get("connector") and self.target.are_same_connector(a["connector"], connector)
        ]
        if volume.get("multiattach") and len(same_host) > 1:
            return True  # another attachment on this host still uses the access
        with self._failures():
            self.target.terminate_connection(volume, connector)
        return len(attachments) > 1

    # ---------------------------------------------------------------------------- stats

    def get_volume_stats(self, refresh: bool = True) -> dict:
        """Cinder's LVM stats: backend fields and one pool (named after the backend, as the LVM
        driver names it), with the extra capabilities merged into the pool as the manager
        does. ``allocated_capacity_gb`` is the manager's to add, not the driver's."""
        if refresh or not self._stats:
            with self._failures():
                self._update_volume_stats()
        return copy.deepcopy(self._stats)

    def _update_volume_stats(self) -> None:
        vg = self.update_volume_group_info()
        thin = self.lvm_type == "thin"
        if thin:
            total, free = vg["thin_pool_size"], vg["thin_pool_free"]
            provisioned = vg["provisioned"]
        else:
            total, free = vg["size"], vg["free"]
            provisioned = round(total - free, 2)
        pool = {
            "pool_name": self.backend_name,
            "total_capacity_gb": total,
            "free_capacity_gb": free,
            "reserved_percentage": self.config.reserved_percentage,
            "location_info": (f"LVMVolumeDriver:{self.hostname}:{self.vg_name}:{self.lvm_type}:0"),
            "QoS_support": False,
            "provisioned_capacity_gb": provisioned,
            "max_over_subscription_ratio": self.config.max_over_subscription_ratio,
            "thin_provisioning_support": thin,
            "thick_provisioning_support": not thin,
            "total_volumes": len(self.vg.get_volumes()),
            "filter_function": self.config.filter_function,
            "goodness_function": self.config.goodness_function,
            "multiattach": True,
            "backend_state": "up",
        }
        pool.update(self.config.extra_capabilities)
        self._stats = {
            "volume_backend_name": self.backend_name,
            "vendor_name": "Open Source",
            "driver_version": self.VERSION,
            "storage_protocol": "iSCSI",
            "pools": [pool],
            "shared_targets": False,
            "sparse_copy_volume": thin,
        }

    def update_volume_group_info(self) -> dict:
        """``vgs`` for the group; for thin also ``lvs`` for the pool size, its Data% and the
        sum of the other LVs (the provisioned capacity). Sizes are GiB floats."""
        info = self.vg.vg_info()
        if self.lvm_type == "thin":
            provisioned = 0.0
            for lv in self.vg.get_volumes():
                if lv["name"] == self.vg.pool_name:
                    info["thin_pool_size"] = float(lv["size"])
                    info["thin_pool_free"] = self.vg.thin_pool_free_space()
                else:
                    provisioned += float(lv["size"])
            info["provisioned"] = round(provisioned, 2)
        return info

    # ---------------------------------------------------------------- paths and copies

    def local_path(self, lv_name: str) -> str:
        """The device-mapper path Cinder reads and writes: every '-' in the names doubled."""
        vg = self.vg_name.replace("-", "--")
        return f"/dev/mapper/{vg}-{escape_snapshot(lv_name).replace('-', '--')}"

    def _delete_lv(self, name: str, size_gb: int, is_snapshot: bool) -> None:
        # Thin LVs are never wiped: their blocks go back to the pool and read as zeros.
        if self.config.volume_clear != "none" and self.lvm_type != "thin":
            clear_volume(
                self.runner,
                size_gb,
                self.local_path(name) + ("-cow" if is_snapshot else ""),
                volume_clear_size=self.config.volume_clear_size,
                volume_clear_ionice=self.config.volume_clear_ionice,
                blocksize=self.config.volume_dd_blocksize,
            )
        self.vg.delete(name)

    def _copy_volume(self, src: str, dest: str, size_mib: int) -> None:
        copy_volume(
            self.runner,
            src,
            dest,
            size_mib,
            self.config.volume_dd_blocksize,
            sparse=self.lvm_type == "thin",
        )

    # ---------------------------------------------------------------------- plumbing

    def _size_gb(self, lv_name: str) -> int:
        ref = self.vg.get_volume(lv_name)
        if ref is None:
            raise VolumeDeviceNotFound(f"Volume device not found at {lv_name}.")
        return math.ceil(float(ref["size"]))

    @contextlib.contextmanager
    def _failures(self) -> Iterator[None]:
        """Turn a failed command into a driver error that carries LVM's message."""
        try:
            yield
        except ProcessExecutionError as error:
            raise LVMDriverError(lvm_message(error.result), error.result) from error


def _inspected(path: Path, claimed: str | None) -> str:
    """Cinder's format inspection: the image's real format, refused if it points at other
    files or is not what it claims to be."""
    try:
        facts = image_format.inspect(path)
    except OSError as error:
        raise ImageUnacceptable(f"Image {path} is unacceptable: {error.strerror}") from error
    except image_format.ImageUnreadable as error:
        raise ImageUnacceptable(f"Image {path} is unacceptable: {error}") from error
    if facts.backing_file is not None:
        raise ImageUnacceptable(
            f"Image {path} is unacceptable: fmt={facts.format} backed by: {facts.backing_file}"
        )
    if facts.data_file is not None:
        raise ImageUnacceptable(
            f"Image {path} is unacceptable: fmt={facts.format} has a data file:"
            f" {facts.data_file or '(unnamed)'}"
        )
    if claimed is not None and claimed != facts.format:
        raise ImageUnacceptable(
            f"Image {path} is unacceptable: Image format {facts.format} does not match the"
            f" disk_format {claimed} it was uploaded as"
        )
    return facts.format


def _check_info(path: str, fmt: str, info: dict) -> None:
    """What qemu-img says must agree: the same format, no backing file, no data file."""
    data_file = ((info.get("format-specific") or {}).get("data") or {}).get("data-file")
    if info.get("format") != fmt or info.get("backing-filename") or data_file:
        raise ImageUnacceptable(
            f"Image {path} is unacceptable: qemu-img reports format {info.get('format')},"
            f" backing file {info.get('backing-filename')}, data file {data_file}"
        )
