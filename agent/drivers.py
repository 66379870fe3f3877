"""Builds a backend's driver from its configuration and the agent options."""

import socket
from functools import cache

from django.conf import settings

from agent.models import BackendConfig
from agent.storage.allowlist import Allowlist
from agent.storage.lvm import LVMConfig, LVMDriver
from agent.storage.runner import RealRunner
from agent.storage.simulated import SimulatedRunner
from agent.storage.simvg import SimulatedVolumeGroup
from core.kernel import plain_sql
from core.kernel.hosts import backend_parts
from core.kernel.recorder import record_command


def data_dir(config: BackendConfig):
    return settings.AGENT_DATA_DIR / config.host / config.backend_name


def allowlist() -> Allowlist:
    """The commands an agent may run, reading files only from the folders it owns: the image
    store, its backends' data, and Cinder's configuration (an ``lvm.conf``); dd writes files
    only in the backends' data (a migration's copy to another backend's volume)."""
    roots = [settings.VAR_DIR / "images", settings.AGENT_DATA_DIR, "/etc/cinder"]
    return Allowlist(
        file_roots=[str(root) for root in roots], write_roots=[str(settings.AGENT_DATA_DIR)]
    )


def ratio(value: str) -> float | str:
    return value if value == "auto" else float(value)


@cache
def my_ip() -> str:
    """Cinder's ``$my_ip``: the address this host reaches the world from (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: routing only decides the source
            return probe.getsockname()[0]
        except OSError:
            return "127.0.0.1"


def volumes_dir(config: BackendConfig):
    """Cinder's ``volumes_dir`` ($state_path/volumes): the targets' persistence files."""
    return data_dir(config) / "volumes"


def driver_for(config: BackendConfig) -> LVMDriver:
    lvm = LVMConfig(
        volume_group=config.volume_group,
        lvm_type=config.lvm_type,
        volume_clear=config.volume_clear or settings.VOLUME_CLEAR,
        volume_clear_size=(
            settings.VOLUME_CLEAR_SIZE
            if config.volume_clear_size is None
            else config.volume_clear_size
        ),
        reserved_percentage=config.reserved_percentage,
        max_over_subscription_ratio=ratio(config.max_over_subscription_ratio),
        volume_backend_name=config.volume_backend_name,
        backend_availability_zone=config.availability_zone,
        extra_capabilities=config.extra_capabilities,
        target_helper=config.target_helper,
        target_ip_address=config.target_ip_address or my_ip(),
        target_port=config.target_port,
        volumes_dir=str(volumes_dir(config)),
    )
    if config.runner == "real":
        runner = RealRunner(allowlist=allowlist(), sink=record_command)
    else:
        vg = SimulatedVolumeGroup(
            data_dir(config),
            config.volume_group,
            config.vg_size_gb,
            thin_pool=config.lvm_type == "thin",
        )
        runner = SimulatedRunner(
            vg, allowlist=allowlist(), sink=record_command, volumes_dir=volumes_dir(config)
        )
    return LVMDriver(runner, lvm)


def backend_config(host: str) -> BackendConfig:
    """``host@backend`` (optionally ``#pool``) -> its configuration row."""
    host_name, backend = backend_parts(host)
    config = plain_sql.by_key(BackendConfig, {"host": host_name, "backend_name": backend})
    if config is None:  # as ``objects.get`` would say
        raise BackendConfig.DoesNotExist(f"no backend {host_name}@{backend}")
    return config
