"""The agent's storage layer, free of Django, laid out along Cinder's own seams.

- ``lvm``: the LVM driver (``cinder/volume/drivers/lvm.py``) and its config.
- ``brick``: one volume group's LVM commands (``cinder/brick/local_dev/lvm.py``).
- ``volume_utils``: name templates and dd copies (``cinder/volume/volume_utils.py``).
- ``exception``: the errors the driver and brick raise (``cinder/exception.py``).
- ``runner``: running commands and their results (``processutils``); ``allowlist``: what may
  run (rootwrap's filters).
- ``simulated``: the runner that plays LVM, dd and qemu-img over ``simvg``, a simulated volume
  group, with ``lvm_reply``/``lvm_report`` (how LVM answers) and ``datacopy`` (the bytes).
"""

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
