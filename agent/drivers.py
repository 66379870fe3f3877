"""Builds a backend's driver from its configuration and the agent options."""

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from django.conf import settings

from agent.models import BackendConfig
from agent.storage.allowlist import Allowlist
from agent.storage.lvm import LVMConfig, LVMDriver
from agent.storage.runner import RealRunner
from agent.storage.simulated import SimulatedRunner
from agent.storage.simvg import SimulatedVolumeGroup
from core.kernel import flows, plain_sql
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


@dataclass
class _Kept:
    fingerprint: tuple
    driver: LVMDriver
    flows: dict = field(default_factory=dict)


_kept = threading.local()


def _kept_drivers() -> dict[tuple[str, str], _Kept]:
    return _kept.__dict__.setdefault("drivers", {})


def driver_for(config: BackendConfig) -> LVMDriver:
    """The backend's driver, kept by each thread as a cinder-volume service keeps its one
    driver (LVM's version asked once, the stats between reports): built again only when the
    backend's row, or an option it depends on, changed, so an edit counts from the next job."""
    key = (config.host, config.backend_name)
    seen = _fingerprint(config)
    kept = _kept_drivers().get(key)
    if kept is None or kept.fingerprint != seen:
        kept = _kept_drivers()[key] = _Kept(seen, _build(config))
    return kept.driver


def kept_flow[F](driver: LVMDriver, host: str, build: Callable[[LVMDriver, str], F]) -> F:
    """``build(driver, host)``, built (and compiled) once while the driver is kept: a manager
    flow's tasks hold only the driver and the host, so every run loads the same flow with its
    own store. The flows go with the driver when a changed row replaces it; a driver this
    thread does not keep gets a new flow each time."""
    kept = next((k for k in _kept_drivers().values() if k.driver is driver), None)
    if kept is None:
        return build(driver, host)
    flow = kept.flows.get((build, host))
    if flow is None:
        flow = kept.flows[(build, host)] = flows.compiled_once(build(driver, host))
    return flow


def _fingerprint(config: BackendConfig) -> tuple:
    row = tuple(getattr(config, field.attname) for field in config._meta.concrete_fields)
    # The options the driver, its data folder and its allowlist are made from, too.
    made_from = ("VOLUME_CLEAR", "VOLUME_CLEAR_SIZE", "VAR_DIR", "AGENT_DATA_DIR")
    return (*row, *(getattr(settings, name) for name in made_from))


def _build(config: BackendConfig) -> LVMDriver:
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
