"""Exports over iSCSI: Cinder's tgtadm and lioadm command lines, the persistence file, the
simulated target table, and the connection info read back from what was stored."""

from pathlib import Path

import pytest

from agent.storage.allowlist import Allowlist
from agent.storage.exception import InvalidConnectorException, LVMDriverError
from agent.storage.lvm import LVMConfig, LVMDriver
from agent.storage.runner import CommandNotAllowed
from agent.storage.simulated import SimulatedRunner
from agent.storage.simvg import SimulatedVolumeGroup

VG = "cinder-volumes"
IQN = "iqn.2010-10.org.openstack:volume-0001"
HOST = {"initiator": "iqn.1993-08.org.debian:01:cad181614cec", "host": "compute-1"}
OTHER_HOST = {"initiator": "iqn.1993-08.org.debian:01:0000000000ff", "host": "compute-2"}


class Exporter:
    """A driver with one 1 GiB volume, every command it runs kept."""

    def __init__(self, data_dir: Path, **options) -> None:
        self.volumes_dir = data_dir / "volumes"
        vg = SimulatedVolumeGroup(data_dir, VG, 4, thin_pool=False)
        self.commands: list[dict] = []
        self.runner = SimulatedRunner(
            vg,
            allowlist=Allowlist(file_roots=[str(data_dir)]),
            sink=self.commands.append,
            volumes_dir=self.volumes_dir,
        )
        config = LVMConfig(
            volumes_dir=str(self.volumes_dir), target_ip_address="10.0.0.5", **options
        )
        self.driver = LVMDriver(self.runner, config, hostname="storage-1")
        self.driver.check_for_setup_error()
        self.driver.create_volume("0001", 1)
        self.volume = {"id": "0001", "name": "volume-0001"}
        self.commands.clear()

    def export(self) -> dict:
        self.volume.update(self.driver.create_export(self.volume, HOST))
        return self.volume

    def lines(self) -> list[str]:
        lines = [" ".join(c["argv"]) for c in self.commands]
        self.commands.clear()
        return lines


@pytest.fixture
def tgt(tmp_path) -> Exporter:
    return Exporter(tmp_path / "tgt")


@pytest.fixture
def lio(tmp_path) -> Exporter:
    return Exporter(tmp_path / "lio", target_helper="lioadm")


# ------------------------------------------------------------------------------ tgtadm


def test_tgt_export_writes_cinders_persistence_file_and_runs_its_commands(tgt):
    volume = tgt.export()

    assert tgt.lines() == [
        f"lvchange -a y --yes -K {VG}/volume-0001",
        "tgtadm --lld iscsi --op show --mode target",
        f"tgt-admin --update {IQN}",
        "tgtadm --lld iscsi --op show --mode target",
        "tgt-admin --show",
        "tgt-admin --show",
    ]
    method, user, secret = volume["provider_auth"].split()
    assert method == "CHAP" and len(user) == 20 and len(secret) == 16
    assert volume["provider_location"] == f"10.0.0.5:3260,1 {IQN} 1"
    persisted = (tgt.volumes_dir / "volume-0001").read_text()
    assert persisted.splitlines() == [
        "",
        f"<target {IQN}>",
        f"    backing-store /dev/{VG}/volume-0001",
        "    driver iscsi",
        f"    incominguser {user} {secret}",
        "    ",
        "    write-cache on",
        "    scsi_sn volume-0001",
        "    scsi_id volume-0001",
        "</target>",
    ]
    target = tgt.runner.targets.targets()[IQN]
    assert target["tid"] == 1 and target["lun"] == 1
    assert target["backing_store"] == f"/dev/{VG}/volume-0001" and target["users"] == [user]


def test_tgt_show_lists_the_target_as_tgt_does(tgt):
    tgt.export()
    shown = tgt.runner.run(["tgt-admin", "--show"]).stdout.splitlines()

    assert shown[0] == f"Target 1: {IQN}"
    assert "        LUN: 0" in shown and "        LUN: 1" in shown
    assert f"            Backing store path: /dev/{VG}/volume-0001" in shown
    assert "            Size: 1074 MB, Block size: 512" in shown


def test_the_connection_info_is_read_from_the_stored_location_and_auth(tgt):
    volume = tgt.export()
    _, user, secret = volume["provider_auth"].split()

    info = tgt.driver.initialize_connection(volume, HOST)

    assert info == {
        "driver_volume_type": "iscsi",
        "data": {
            "target_discovered": False,
            "target_portal": "10.0.0.5:3260",
            "target_iqn": IQN,
            "target_lun": 1,
            "volume_id": "0001",
            "auth_method": "CHAP",
            "auth_username": user,
            "auth_password": secret,
            "encrypted": False,
        },
    }


def test_a_second_export_keeps_the_chap_credentials_and_the_live_target(tgt):
    first = dict(tgt.export())
    second = tgt.export()

    assert second["provider_auth"] == first["provider_auth"]
    assert list(tgt.runner.targets.targets()) == [IQN]


def test_tgt_remove_export_deletes_the_target_and_its_file(tgt):
    volume = tgt.export()
    tgt.lines()

    tgt.driver.remove_export(volume)

    assert tgt.lines() == ["tgt-admin --show", f"tgt-admin --delete {IQN} -f", "tgt-admin --show"]
    assert tgt.runner.targets.targets() == {}
    assert not (tgt.volumes_dir / "volume-0001").exists()


def test_removing_the_export_of_a_volume_never_exported_runs_nothing(tgt):
    tgt.driver.remove_export(tgt.volume)

    assert tgt.lines() == []


def test_exporting_a_volume_that_is_not_there_fails_and_leaves_no_target(tgt):
    with pytest.raises(LVMDriverError):
        tgt.driver.create_export({"id": "0002", "name": "volume-0002"}, HOST)

    assert tgt.runner.targets.targets() == {}
    assert not (tgt.volumes_dir / "volume-0002").exists()


def test_extending_an_attached_volume_updates_its_live_target(tgt):
    volume = tgt.export()
    tgt.lines()

    tgt.driver.extend_volume("0001", 2, {**volume, "attachments": [{"connector": HOST}]})

    assert tgt.lines()[-2:] == [
        f"env LC_ALL=C lvextend -L 2g {VG}/volume-0001",
        f"tgt-admin --update {IQN} -f",
    ]
    assert tgt.runner.targets.targets()[IQN]["size"] == 2 * 1024**3


def test_extending_a_detached_volume_leaves_the_target_alone(tgt, lio):
    for exporter in (tgt, lio):
        volume = exporter.export()
        exporter.lines()
        exporter.driver.extend_volume("0001", 2, {**volume, "attachments": []})
        assert exporter.lines()[-1] == f"env LC_ALL=C lvextend -L 2g {VG}/volume-0001"


def test_secondary_addresses_and_multipath_give_every_portal(tmp_path):
    exporter = Exporter(tmp_path / "mp", target_secondary_ip_addresses=["10.0.1.5", "fd00::5"])
    volume = exporter.export()

    assert volume["provider_location"] == (f"10.0.0.5:3260;10.0.1.5:3260;[fd00::5]:3260,1 {IQN} 1")
    data = exporter.driver.initialize_connection(volume, {**HOST, "multipath": True})["data"]
    assert data["target_portals"] == ["10.0.0.5:3260", "10.0.1.5:3260", "[fd00::5]:3260"]
    assert data["target_iqns"] == [IQN] * 3 and data["target_luns"] == [1] * 3


def test_a_connector_without_an_initiator_is_refused(tgt):
    with pytest.raises(InvalidConnectorException, match="initiator"):
        tgt.driver.validate_connector({"host": "compute-1"})


# ------------------------------------------------------------------------------- lioadm


def test_lio_export_and_connection_use_cinder_rtstool_as_cinder_does(lio):
    volume = lio.export()
    _, user, secret = volume["provider_auth"].split()

    info = lio.driver.initialize_connection(volume, HOST)

    assert lio.lines() == [
        f"lvchange -a y --yes -K {VG}/volume-0001",
        f"cinder-rtstool create /dev/{VG}/volume-0001 {IQN} {user} {secret} False"
        " -p3260 -a10.0.0.5",
        "cinder-rtstool get-targets",
        "cinder-rtstool save",
        f"cinder-rtstool add-initiator {IQN} {user} {secret} {HOST['initiator']}",
        "cinder-rtstool save",
    ]
    assert volume["provider_location"] == f"10.0.0.5:3260,{IQN} {IQN} 0"
    assert info["data"]["target_lun"] == 0
    assert lio.runner.targets.targets()[IQN]["initiators"] == [HOST["initiator"]]


def test_lio_terminate_shuts_the_host_out_and_remove_deletes_the_target(lio):
    volume = lio.export()
    lio.driver.initialize_connection(volume, HOST)
    lio.lines()

    shared = lio.driver.terminate_connection(volume, HOST)
    lio.driver.remove_export(volume)

    assert shared is False
    assert lio.lines() == [
        f"cinder-rtstool delete-initiator {IQN} {HOST['initiator']}",
        "cinder-rtstool save",
        "cinder-rtstool get-targets",
        f"cinder-rtstool delete {IQN}",
        "cinder-rtstool save",
    ]
    assert lio.runner.targets.targets() == {}


def test_a_multiattach_volume_keeps_the_access_another_attachment_on_the_host_uses(lio):
    volume = lio.export()
    lio.driver.initialize_connection(volume, HOST)
    lio.lines()
    volume.update(
        multiattach=True,
        attachments=[{"connector": HOST}, {"connector": HOST}, {"connector": OTHER_HOST}],
    )

    assert lio.driver.terminate_connection(volume, HOST) is True
    assert lio.lines() == []
    assert lio.runner.targets.targets()[IQN]["initiators"] == [HOST["initiator"]]


def test_lio_checks_its_tool_at_setup(tmp_path):
    vg = SimulatedVolumeGroup(tmp_path / "v", VG, 4, thin_pool=False)
    commands: list[dict] = []
    runner = SimulatedRunner(vg, sink=commands.append)
    LVMDriver(runner, LVMConfig(target_helper="lioadm")).check_for_setup_error()
    assert "cinder-rtstool verify" in [" ".join(c["argv"]) for c in commands]


# ---------------------------------------------------------------------------- allowlist


@pytest.mark.parametrize(
    "argv",
    [
        ["tgt-admin", "--update", "iqn.2010-10.org.openstack:volume-1;reboot"],
        ["tgt-admin", "--delete", "/etc/passwd"],
        ["cinder-rtstool", "create", "/etc/shadow", IQN, "user", "secret", "False"],
        ["cinder-rtstool", "add-initiator", IQN, "user", "secret", "--all"],
        ["tgtadm", "--lld", "iscsi", "--op", "show", "--mode", "target", "--evil"],
        ["env", "LC_ALL=C", "tgt-admin", "--show"],
    ],
)
def test_the_allowlist_refuses_target_commands_cinder_would_never_run(tgt, argv):
    with pytest.raises(CommandNotAllowed):
        tgt.runner.run(argv)
