"""``target_helper = lioadm``: the kernel's LIO target through ``cinder-rtstool``, as
``cinder/volume/targets/lio.py`` drives it.

``cinder-rtstool create <device> <iqn> <user> <secret> <iser>`` makes the target (LUN 0),
``add-initiator`` lets one host in (with the CHAP pair) when a connection is initialized,
``delete-initiator`` shuts it out again, ``delete`` removes the target; ``save`` after each
change keeps the configuration across reboots.
"""

from __future__ import annotations

import logging

from agent.storage.exception import (
    ISCSITargetAttachFailed,
    ISCSITargetCreateFailed,
    ISCSITargetDetachFailed,
    ISCSITargetRemoveFailed,
)
from agent.storage.iscsi import ISCSITarget
from agent.storage.runner import ProcessExecutionError

LOG = logging.getLogger(__name__)


class LioAdm(ISCSITarget):
    lun = 0

    def check_for_setup_error(self) -> None:
        """Cinder checks the tool when the target helper starts."""
        self.runner.run(["cinder-rtstool", "verify"])

    def create_iscsi_target(self, iqn: str, path: str, chap: tuple[str, str]) -> str:
        vol_id = iqn.split(":")[1]
        iser = self.options.target_protocol == "iser"
        command = ["cinder-rtstool", "create", path, iqn, *chap, str(iser)]
        command += [f"-p{self.options.target_port}", "-a" + ",".join(self.portals_ips())]
        try:
            self.runner.run(command)
        except ProcessExecutionError as error:
            raise ISCSITargetCreateFailed(
                f"Failed to create iscsi target for volume {vol_id}.", error.result
            ) from error
        tid = self.find_target(iqn)
        if tid is None:
            raise ISCSITargetCreateFailed(f"Failed to create iscsi target for volume {vol_id}.")
        self._persist()
        return tid

    def remove_iscsi_target(self, volume: dict) -> None:
        iqn = self.iqn(volume)
        try:
            self.runner.run(["cinder-rtstool", "delete", iqn])
        except ProcessExecutionError as error:
            raise ISCSITargetRemoveFailed(
                f"Failed to remove iscsi target for volume {volume['id']}.", error.result
            ) from error
        self._persist()

    def initialize_connection(self, volume: dict, connector: dict) -> dict:
        iqn = volume["provider_location"].split(" ")[1]
        _method, user, secret = volume["provider_auth"].split(" ", 3)[:3]
        try:
            self.runner.run(
                ["cinder-rtstool", "add-initiator", iqn, user, secret, connector["initiator"]]
            )
        except ProcessExecutionError as error:
            raise ISCSITargetAttachFailed(
                f"Failed to attach iSCSI target for volume {volume['id']}.", error.result
            ) from error
        self._persist()
        return super().initialize_connection(volume, connector)

    def terminate_connection(self, volume: dict, connector: dict | None) -> None:
        if not volume.get("provider_location") or not connector:
            return  # never exported, or a forced detach that names no host
        iqn = volume["provider_location"].split(" ")[1]
        try:
            self.runner.run(["cinder-rtstool", "delete-initiator", iqn, connector["initiator"]])
        except ProcessExecutionError as error:
            raise ISCSITargetDetachFailed(
                f"Failed to detach iSCSI target for volume {volume['id']}.", error.result
            ) from error
        self._persist()

    def find_target(self, iqn: str) -> str | None:
        """LIO has no tids: Cinder keeps the ``get-targets`` line itself (the iqn)."""
        for line in self.runner.run(["cinder-rtstool", "get-targets"]).stdout.splitlines():
            if iqn in line:
                return line.strip()
        return None

    def _persist(self) -> None:
        try:
            self.runner.run(["cinder-rtstool", "save"])
        except ProcessExecutionError:  # the target works; only its persistence failed
            LOG.warning("Failed to save iscsi LIO configuration")
