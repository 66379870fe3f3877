"""The storage errors: the part of ``cinder/exception.py`` the LVM driver and brick raise.

Both layers raise them, so they live apart from either. Callers match them by class name (as
Cinder's reschedule and busy checks do), so the names are Cinder's.
"""

from __future__ import annotations

from agent.storage.runner import CommandResult


class LVMDriverError(Exception):
    """A driver operation failed; ``result`` is the command that failed, if one did."""

    def __init__(self, message: str, result: CommandResult | None = None) -> None:
        super().__init__(message)
        self.result = result


class VolumeBackendAPIException(LVMDriverError):
    pass


class VolumeGroupNotFound(VolumeBackendAPIException):
    pass


class VolumeIsBusy(LVMDriverError):
    pass


class VolumeDeviceNotFound(LVMDriverError):
    pass


class ImageUnacceptable(LVMDriverError):
    pass


# The data path (cinder/volume/targets): exporting a volume over iSCSI.
class InvalidConnectorException(LVMDriverError):
    """The connector lacks what the target needs (Cinder's ``missing`` field)."""

    def __init__(self, missing: str) -> None:
        super().__init__(f"Connector doesn't have required information: {missing}")
        self.missing = missing


class ISCSITargetCreateFailed(LVMDriverError):
    pass


class ISCSITargetRemoveFailed(LVMDriverError):
    pass


class ISCSITargetAttachFailed(LVMDriverError):
    pass


class ISCSITargetDetachFailed(LVMDriverError):
    pass
