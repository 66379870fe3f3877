"""Exporting a volume over iSCSI: what ``cinder/volume/targets/iscsi.py`` is to Cinder.

A target helper (``tgtadm`` in :mod:`agent.storage.tgt`, ``lioadm`` in
:mod:`agent.storage.lio`) turns an LV into an iSCSI target named
``<target_prefix><volume name>`` and answers with Cinder's ``provider_location``
(``<ip>:<port>,<tid> <iqn> <lun>``) and ``provider_auth`` (``CHAP <user> <secret>``, the
credentials generated on the first export and kept with the volume). The connection info a
host needs is read back from those two strings, as Cinder reads them.

A volume here is a plain dict (``id``, ``name``, ``provider_location``, ``provider_auth``):
the storage layer knows nothing of Django.
"""

from __future__ import annotations

import ipaddress
import secrets
from typing import Protocol

from agent.storage.exception import InvalidConnectorException, VolumeBackendAPIException
from agent.storage.runner import Runner

# Cinder's volume_utils.DEFAULT_PASSWORD_SYMBOLS: no 0/1, I/O or l to misread.
SYMBOL_GROUPS = ("23456789", "ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnopqrstuvwxyz")


class TargetOptions(Protocol):
    """The driver options a target reads (Cinder's names; see ``LVMConfig``)."""

    target_prefix: str
    target_ip_address: str
    target_secondary_ip_addresses: list[str]
    target_port: int
    target_protocol: str
    volumes_dir: str
    iscsi_write_cache: str
    iscsi_target_flags: str


def generate_password(length: int = 16) -> str:
    """Cinder's ``generate_password``: one symbol of each group, the rest from all, shuffled."""
    chosen = [secrets.choice(group) for group in SYMBOL_GROUPS]
    everything = "".join(SYMBOL_GROUPS)
    chosen += [secrets.choice(everything) for _ in range(length - len(chosen))]
    secrets.SystemRandom().shuffle(chosen)
    return "".join(chosen[:length])


def generate_username(length: int = 20) -> str:
    return generate_password(length)


def sanitize_host(host: str) -> str:
    """IPv6 portals are written in brackets."""
    try:
        return f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
    except ValueError:
        return host


class ISCSITarget:
    """What every iSCSI target helper shares; subclasses run the helper's own commands."""

    lun = 0  # the LUN a volume is exported as (tgt keeps 0 for its controller)

    def __init__(self, runner: Runner, options: TargetOptions) -> None:
        self.runner = runner
        self.options = options

    # ------------------------------------------------------------------- the interface

    def check_for_setup_error(self) -> None:
        """Whatever the helper needs to be usable (nothing by default)."""

    def iqn(self, volume: dict) -> str:
        return f"{self.options.target_prefix}{volume['name']}"

    def validate_connector(self, connector: dict) -> None:
        if "initiator" not in connector:
            raise InvalidConnectorException("initiator")

    def create_export(self, volume: dict, volume_path: str) -> dict:
        """Export the LV at ``volume_path``; returns ``location`` and ``auth``."""
        chap = self._chap_auth(volume) or (generate_username(), generate_password())
        tid = self.create_iscsi_target(self.iqn(volume), volume_path, chap)
        return {"location": self._location(tid, self.iqn(volume)), "auth": "CHAP " + " ".join(chap)}

    def remove_export(self, volume: dict) -> None:
        """Remove the target, if it is there (a volume never exported has none)."""
        location = (volume.get("provider_location") or "").split(" ")
        if len(location) < 2 or self.find_target(location[1]) is None:
            return  # Cinder: "Skipping remove_export. No iscsi_target is presently exported"
        self.remove_iscsi_target(volume)

    def initialize_connection(self, volume: dict, connector: dict) -> dict:
        return {
            "driver_volume_type": self.options.target_protocol,
            "data": self.iscsi_properties(volume, bool(connector.get("multipath"))),
        }

    def terminate_connection(self, volume: dict, connector: dict | None) -> None:
        """Nothing for tgt: its targets admit every initiator that knows the CHAP secret."""

    def extend_target(self, volume: dict) -> None:
        """After ``lvextend``: most helpers see the new size by themselves."""

    @staticmethod
    def are_same_connector(a: dict, b: dict | None) -> bool:
        initiator = a.get("initiator")
        return bool(initiator and b) and initiator == b.get("initiator")

    # ------------------------------------------------------------------- the helper's part

    def create_iscsi_target(self, iqn: str, path: str, chap: tuple[str, str]) -> str:
        raise NotImplementedError

    def remove_iscsi_target(self, volume: dict) -> None:
        raise NotImplementedError

    def find_target(self, iqn: str) -> str | None:
        raise NotImplementedError

    # ---------------------------------------------------------------------- the strings

    def iscsi_properties(self, volume: dict, multipath: bool = False) -> dict:
        """Cinder's ``_get_iscsi_properties``, from the stored location and auth."""
        location = volume.get("provider_location")
        if not location:
            # Cinder falls back to `iscsiadm -m discovery`; an unexported volume has nothing.
            raise VolumeBackendAPIException(
                f"Could not find iSCSI export for volume {volume['name']}"
            )
        portal_part, iqn, *rest = location.split(" ")
        portals = portal_part.split(",")[0].split(";")
        lun = int(rest[0]) if rest and rest[0].isdigit() else 0
        properties: dict = {"target_discovered": False}
        if len(portals) > 1 or multipath:
            properties.update(
                target_portals=portals,
                target_iqns=[iqn] * len(portals),
                target_luns=[lun] * len(portals),
            )
        properties.update(
            target_portal=portals[0], target_iqn=iqn, target_lun=lun, volume_id=volume["id"]
        )
        if volume.get("provider_auth"):
            method, username, secret = volume["provider_auth"].split()
            properties.update(auth_method=method, auth_username=username, auth_password=secret)
        properties["encrypted"] = False
        return properties

    def _location(self, tid: str, iqn: str) -> str:
        ips = [self.options.target_ip_address, *self.options.target_secondary_ip_addresses]
        portals = ";".join(f"{sanitize_host(ip)}:{self.options.target_port}" for ip in ips)
        return f"{portals},{tid} {iqn} {self.lun}"

    @staticmethod
    def _chap_auth(volume: dict) -> tuple[str, str] | None:
        """The CHAP pair kept from an earlier export, if any (Cinder reuses it)."""
        auth = volume.get("provider_auth")
        if not auth:
            return None
        _method, username, secret = auth.split(" ", 3)[:3]
        return username, secret

    def portals_ips(self) -> list[str]:
        return [self.options.target_ip_address, *self.options.target_secondary_ip_addresses]
