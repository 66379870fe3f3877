"""The agent's storage layer, free of Django: the LVM driver, command runners, simulated VG."""

from agent.storage.exception import LVMDriverError
from agent.storage.lvm import LVMConfig, LVMDriver
from agent.storage.runner import (
    CommandNotAllowed,
    CommandResult,
    ProcessExecutionError,
    RealRunner,
)
from agent.storage.simulated import SimulatedRunner
from agent.storage.simvg import SimulatedVolumeGroup

__all__ = [
    "CommandNotAllowed",
    "CommandResult",
    "LVMConfig",
    "LVMDriver",
    "LVMDriverError",
    "ProcessExecutionError",
    "RealRunner",
    "SimulatedRunner",
    "SimulatedVolumeGroup",
]
