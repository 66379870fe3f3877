"""The LVM driver: Cinder's command lines, real bytes through clones and wipes, Cinder's stats."""

import json
from pathlib import Path

import pytest

from agent.storage.allowlist import Allowlist
from agent.storage.exception import (
    ImageUnacceptable,
    LVMDriverError,
    VolumeGroupNotFound,
    VolumeIsBusy,
)
from agent.storage.image_format import qcow2_header
from agent.storage.lvm import LVMConfig, LVMDriver
from agent.storage.simulated import SimulatedRunner
from agent.storage.simvg import GiB, MiB, SimulatedVolumeGroup

VG = "cinder-volumes"
PAYLOAD = b"cinderlab payload " * 64


class Backend:
    """A simulated VG, a runner that records every command, and a driver on top."""

    def __init__(
        self, data_dir: Path, size_gb: float = 10, thin_pool: bool = False, **options
    ) -> None:
        self.vg = SimulatedVolumeGroup(data_dir, VG, size_gb, thin_pool=thin_pool)
        self.commands: list[dict] = []
        # Images are written under the test's folder, the one this "agent" owns.
        allowlist = Allowlist(file_roots=[str(data_dir.parent)])
        self.runner = SimulatedRunner(self.vg, allowlist=allowlist, sink=self.commands.append)
        self.driver = LVMDriver(self.runner, LVMConfig(**options), hostname="storage-1")
        self.driver.check_for_setup_error()
        self.commands.clear()

    def lines(self, tool: str | None = None) -> list[str]:
        return [
            " ".join(c["argv"])
            for c in self.commands
            if tool is None or tool in c["argv"][:3] or tool in c["argv"][:1]
        ]

    def write(self, lv: str, data: bytes, offset: int = 0) -> None:
        with open(self.vg.lv_path(lv), "r+b") as device:
            device.seek(offset)
            device.write(data)

    def read(self, lv: str, length: int, offset: int = 0) -> bytes:
        with open(self.vg.lv_path(lv), "rb") as device:
            device.seek(offset)
            return device.read(length)


@pytest.fixture
def thick(tmp_path: Path) -> Backend:
    return Backend(tmp_path / "thick")


@pytest.fixture
def thin(tmp_path: Path) -> Backend:
    return Backend(tmp_path / "thin", lvm_type="thin")


# ---------------------------------------------------------------------- command lines


def test_a_thick_volume_is_created_with_cinders_exact_lvcreate(thick):
    name = thick.driver.create_volume("0001", 1)

    assert name == "volume-0001"
    assert thick.lines() == [f"env LC_ALL=C lvcreate -n volume-0001 {VG} -L 1g"]
    assert thick.commands[0]["stdout"] == '  Logical volume "volume-0001" created.\n'
    assert thick.vg.get_lv("volume-0001").lv_type == "thick"


def test_a_thin_volume_is_created_in_the_pool_with_cinders_exact_lvcreate(thin):
    thin.driver.create_volume("0001", 1)

    assert thin.lines() == [f"env LC_ALL=C lvcreate -T -V 1g -n volume-0001 {VG}/{VG}-pool"]
    assert thin.vg.get_lv("volume-0001").pool == f"{VG}-pool"


def test_thin_setup_creates_the_pool_from_95_percent_of_the_free_space(tmp_path):
    vg = SimulatedVolumeGroup(tmp_path, VG, size_gb=10, thin_pool=False)
    commands: list[dict] = []
    driver = LVMDriver(SimulatedRunner(vg, sink=commands.append), LVMConfig(lvm_type="thin"))

    driver.check_for_setup_error()

    assert [" ".join(c["argv"]) for c in commands] == [
        "env LC_ALL=C lvm version",
        f"env LC_ALL=C vgs --noheadings -o name {VG}",
        f"env LC_ALL=C lvs --noheadings --unit=g -o vg_name,name,size --nosuffix --readonly "
        f"{VG}/{VG}-pool",
        f"env LC_ALL=C vgs --noheadings --unit=g -o name,size,free,lv_count,uuid --separator : "
        f"--nosuffix {VG}",
        f"env LC_ALL=C lvcreate -T -L 9.5g {VG}/{VG}-pool",
        f"lvchange -a y --yes -K {VG}/{VG}-pool",
        "env LC_ALL=C pvs --noheadings --unit=g -o vg_name,name,size,free --separator | "
        "--nosuffix --ignoreskippedcluster",
    ]
    assert driver.initialized


def test_thin_setup_uses_a_pool_that_is_already_there(tmp_path):
    backend = Backend(tmp_path, thin_pool=True, lvm_type="thin")

    backend.driver.check_for_setup_error()

    assert not [line for line in backend.lines() if "lvcreate" in line]


def test_setup_fails_when_the_volume_group_does_not_exist(tmp_path):
    vg = SimulatedVolumeGroup(tmp_path, "other-vg", 10, thin_pool=False)
    driver = LVMDriver(SimulatedRunner(vg), LVMConfig())

    with pytest.raises(VolumeGroupNotFound, match="Volume Group cinder-volumes does not exist"):
        driver.check_for_setup_error()


def test_extend_runs_cinders_lvextend_and_the_lv_grows(thick, thin):
    for backend in (thick, thin):
        backend.driver.create_volume("0001", 1)
        backend.commands.clear()
        backend.driver.extend_volume("0001", 3)
        assert backend.lines("lvextend") == [f"env LC_ALL=C lvextend -L 3g {VG}/volume-0001"]
        assert backend.vg.lv_path("volume-0001").stat().st_size == 3 * 1024**3


def test_extending_an_origin_with_a_thick_snapshot_deactivates_it_around_the_resize(thick):
    thick.driver.create_volume("0001", 1)
    thick.driver.create_snapshot("snapshot-0009", "0001")
    thick.commands.clear()
    thick.driver.extend_volume("0001", 2)
    changes = [line for line in thick.lines() if "lvchange" in line or "lvextend" in line]
    assert changes[0].endswith(f"lvchange -a n {VG}/volume-0001")
    assert changes[1] == f"env LC_ALL=C lvextend -L 2g {VG}/volume-0001"
    assert "lvchange -a y" in changes[2]


def test_snapshots_use_cinders_command_lines(thick, thin):
    for backend in (thick, thin):
        backend.driver.create_volume("0001", 1)
        backend.commands.clear()
        backend.driver.create_snapshot("snapshot-0009", "0001")

    assert thick.lines("lvcreate") == [
        f"env LC_ALL=C lvcreate --name _snapshot-0009 --snapshot {VG}/volume-0001 -L 1.00g"
    ]
    assert thin.lines("lvcreate") == [
        f"env LC_ALL=C lvcreate --name _snapshot-0009 --snapshot {VG}/volume-0001"
    ]


def test_a_thick_delete_zeroes_then_removes_with_cinders_command_lines(thick):
    thick.driver.create_volume("0001", 1)
    thick.commands.clear()

    thick.driver.delete_volume("0001")

    dev = "/dev/mapper/cinder--volumes-volume--0001"
    assert thick.lines() == [
        f"env LC_ALL=C lvs --noheadings --unit=g -o vg_name,name,size --nosuffix --readonly "
        f"{VG}/volume-0001",
        f"env LC_ALL=C lvdisplay --noheading -C -o Attr --readonly {VG}/volume-0001",
        f"dd count=0 if=/dev/zero of={dev} oflag=direct",
        f"dd if=/dev/zero of={dev} count={GiB} bs=1M iflag=count_bytes oflag=direct",
        f"lvremove --config activation {{ retry_deactivation = 1}}  -f {VG}/volume-0001",
    ]
    assert thick.commands[-1]["stdout"] == '  Logical volume "volume-0001" successfully removed.\n'


def test_volume_clear_ionice_runs_the_wipe_under_ionice(tmp_path):
    backend = Backend(tmp_path, volume_clear_ionice="-c3")
    backend.driver.create_volume("0001", 1)

    backend.driver.delete_volume("0001")

    assert [line for line in backend.lines() if "count=0" not in line and "dd" in line] == [
        f"ionice -c3 dd if=/dev/zero of=/dev/mapper/cinder--volumes-volume--0001 count={GiB} "
        "bs=1M iflag=count_bytes oflag=direct"
    ]


# ---------------------------------------------------------------------------- failures


def test_an_oversized_volume_fails_with_lvms_own_message(thick):
    with pytest.raises(LVMDriverError) as failure:
        thick.driver.create_volume("0001", 11)

    assert str(failure.value) == (
        'Volume group "cinder-volumes" has insufficient free space (2560 extents): 2816 required.'
    )
    assert failure.value.result.exit_code == 5
    assert failure.value.result.argv == [
        "env",
        "LC_ALL=C",
        "lvcreate",
        "-n",
        "volume-0001",
        VG,
        "-L",
        "11g",
    ]
    # Like brick, the driver looks at the group's state after a failed lvcreate.
    assert thick.lines()[-1].startswith("env LC_ALL=C vgs --noheadings --unit=g")


def test_a_volume_with_snapshots_cannot_be_deleted(thick):
    thick.driver.create_volume("0001", 1)
    thick.driver.create_snapshot("snapshot-0009", "0001")

    with pytest.raises(VolumeIsBusy, match="deleting volume volume-0001 that has snapshot"):
        thick.driver.delete_volume("0001")

    assert thick.vg.get_lv("volume-0001") is not None


def test_deleting_a_volume_that_is_not_there_does_nothing(thick):
    thick.driver.delete_volume("never-created")

    assert thick.lines() == [
        f"env LC_ALL=C lvs --noheadings --unit=g -o vg_name,name,size --nosuffix --readonly "
        f"{VG}/volume-never-created"
    ]


def test_a_clone_that_does_not_fit_still_removes_its_temporary_snapshot(tmp_path):
    backend = Backend(tmp_path, size_gb=2.5)
    backend.driver.create_volume("0001", 1)

    with pytest.raises(LVMDriverError, match="insufficient free space"):
        backend.driver.create_cloned_volume("0002", 1, "0001")

    assert [lv.name for lv in backend.vg.logical_volumes()] == ["volume-0001"]
    assert f"lvremove --config activation {{ retry_deactivation = 1}}  -f {VG}/clone-snap-0002" in (
        backend.lines()
    )


# ------------------------------------------------------------------------ bytes move


@pytest.mark.parametrize("lvm_type", ["default", "thin"])
def test_bytes_written_to_a_volume_are_in_its_clone_and_in_a_volume_from_its_snapshot(
    tmp_path, lvm_type
):
    backend = Backend(tmp_path, lvm_type=lvm_type)
    driver = backend.driver
    driver.create_volume("src", 1)
    backend.write("volume-src", PAYLOAD, offset=3 * MiB)
    backend.write("volume-src", b"tail", offset=GiB - 4)

    driver.create_cloned_volume("clone", 1, "src")
    driver.create_snapshot("snapshot-s", "src")
    backend.write("volume-src", b"written after the snapshot", offset=3 * MiB)
    driver.create_volume_from_snapshot("restored", 2, "snapshot-s")

    assert backend.read("volume-clone", len(PAYLOAD), 3 * MiB) == PAYLOAD
    assert backend.read("volume-clone", 4, GiB - 4) == b"tail"
    assert backend.read("volume-restored", len(PAYLOAD), 3 * MiB) == PAYLOAD
    assert backend.read("volume-restored", 4, GiB - 4) == b"tail"
    assert backend.vg.lv_path("volume-restored").stat().st_size == 2 * GiB
    assert "clone-snap-clone" not in [lv.name for lv in backend.vg.logical_volumes()]


def test_a_thick_clone_goes_through_a_temporary_snapshot_and_dd(thick):
    thick.driver.create_volume("src", 1)
    thick.commands.clear()

    thick.driver.create_cloned_volume("dst", 1, "src", src_size_gb=1)

    snap = "/dev/mapper/cinder--volumes-clone--snap--dst"
    dest = "/dev/mapper/cinder--volumes-volume--dst"
    assert [line for line in thick.lines() if "count=0" not in line and " lvs " not in line] == [
        f"env LC_ALL=C lvcreate --name clone-snap-dst --snapshot {VG}/volume-src -L 1.00g",
        f"env LC_ALL=C lvcreate -n volume-dst {VG} -L 1g",
        f"lvchange -a y --yes -K {VG}/clone-snap-dst",
        f"dd if={snap} of={dest} count={GiB} bs=1M iflag=count_bytes,direct oflag=direct",
        f"dd if=/dev/zero of={snap}-cow count={GiB} bs=1M iflag=count_bytes oflag=direct",
        f"lvremove --config activation {{ retry_deactivation = 1}}  -f {VG}/clone-snap-dst",
    ]


def test_copy_image_to_volume_writes_the_image_bytes_into_the_lv(thick, tmp_path):
    image = tmp_path / "cirros.raw"
    image.write_bytes(PAYLOAD * 100)
    thick.driver.create_volume("0001", 1)

    info = thick.driver.copy_image_to_volume("0001", image)

    assert info == {"format": "raw", "virtual_size": len(PAYLOAD) * 100}
    assert thick.read("volume-0001", len(PAYLOAD) * 100) == PAYLOAD * 100
    assert thick.lines()[-1] == (
        f"qemu-img convert -O raw -t none -f raw {image} /dev/mapper/cinder--volumes-volume--0001"
    )


def test_an_image_larger_than_the_volume_is_unacceptable(thick, tmp_path):
    image = tmp_path / "big.raw"
    image.write_bytes(b"")
    image.open("r+b").truncate(GiB + 1)
    thick.driver.create_volume("0001", 1)

    with pytest.raises(
        ImageUnacceptable,
        match="Image virtual size is 2GB and doesn't fit in a volume of size 1GB.",
    ):
        thick.driver.copy_image_to_volume("0001", image)


@pytest.mark.parametrize(
    "header, refusal",
    [
        (qcow2_header(GiB, backing_file="/etc/shadow"), "fmt=qcow2 backed by: /etc/shadow"),
        (qcow2_header(GiB, data_file="/dev/sda"), "fmt=qcow2 has a data file: /dev/sda"),
    ],
)
def test_an_image_pointing_at_a_host_file_is_refused_before_qemu_img_reads_it(
    thick, tmp_path, header, refusal
):
    """OSSA-2024-001's class: a qcow2 naming another file would copy it into the volume."""
    image = tmp_path / "evil.qcow2"
    image.write_bytes(header)
    thick.driver.create_volume("0001", 1)
    ran = len(thick.lines())

    with pytest.raises(ImageUnacceptable, match=refusal):
        thick.driver.copy_image_to_volume("0001", image, disk_format="qcow2")

    assert not [line for line in thick.lines()[ran:] if "qemu-img" in line]


def test_an_image_not_in_the_format_it_claims_is_refused(thick, tmp_path):
    image = tmp_path / "claims-raw.img"
    image.write_bytes(qcow2_header(GiB))
    thick.driver.create_volume("0001", 1)

    with pytest.raises(ImageUnacceptable, match="format qcow2 does not match the disk_format raw"):
        thick.driver.copy_image_to_volume("0001", image, disk_format="raw")


def test_the_simulated_qemu_img_reports_a_backing_file_as_qemu_img_does(thick, tmp_path):
    image = tmp_path / "backed.qcow2"
    image.write_bytes(qcow2_header(GiB, backing_file="base.img"))

    info = json.loads(
        thick.runner.run(
            ["env", "LC_ALL=C", "qemu-img", "info", "-f", "qcow2", "--output=json", str(image)]
        ).stdout
    )

    assert info["backing-filename"] == "base.img" and info["virtual-size"] == GiB


# --------------------------------------------------------------------------- wiping


def _snapshotter(backend: Backend, lv: str, seen: list):
    """A sink that, after each command, notes the LV's bytes and mtime (while it exists)."""

    def sink(command: dict) -> None:
        backend.commands.append(command)
        path = backend.vg.lv_path(lv)
        if path.exists():
            seen.append((command["argv"], path.stat().st_mtime_ns, backend.read(lv, 8 * MiB)))

    return sink


def test_delete_with_volume_clear_zero_really_zeroes_the_volume_before_removing_it(thick):
    thick.driver.create_volume("0001", 1)
    thick.write("volume-0001", PAYLOAD, offset=MiB)
    seen: list = []
    thick.runner.sink = _snapshotter(thick, "volume-0001", seen)

    thick.driver.delete_volume("0001")

    wiped = [data for argv, _, data in seen if argv[:2] == ["dd", "if=/dev/zero"]]
    assert len(wiped) == 1
    assert wiped[0] == bytes(8 * MiB)  # captured after dd, before lvremove
    assert seen[0][2][MiB : MiB + len(PAYLOAD)] == PAYLOAD  # the data was there until then
    assert not thick.vg.lv_path("volume-0001").exists()


def test_volume_clear_size_zeroes_only_that_many_mib(tmp_path):
    backend = Backend(tmp_path, volume_clear_size=1)
    backend.driver.create_volume("0001", 1)
    backend.write("volume-0001", PAYLOAD, offset=0)
    backend.write("volume-0001", PAYLOAD, offset=2 * MiB)
    seen: list = []
    backend.runner.sink = _snapshotter(backend, "volume-0001", seen)

    backend.driver.delete_volume("0001")

    after_wipe = [data for argv, _, data in seen if argv[:2] == ["dd", "if=/dev/zero"]][0]
    assert after_wipe[: len(PAYLOAD)] == bytes(len(PAYLOAD))
    assert after_wipe[2 * MiB : 2 * MiB + len(PAYLOAD)] == PAYLOAD
    assert f"count={MiB}" in backend.lines("dd")[-1]


def test_delete_with_volume_clear_none_writes_nothing(tmp_path):
    backend = Backend(tmp_path, volume_clear="none")
    backend.driver.create_volume("0001", 1)
    backend.write("volume-0001", PAYLOAD, offset=MiB)
    before = backend.vg.lv_path("volume-0001").stat().st_mtime_ns
    seen: list = []
    backend.runner.sink = _snapshotter(backend, "volume-0001", seen)

    backend.driver.delete_volume("0001")

    assert not [c for c in backend.commands if c["argv"][0] == "dd"]
    assert {mtime for _, mtime, _ in seen} == {before}
    assert seen[-1][2][MiB : MiB + len(PAYLOAD)] == PAYLOAD  # untouched up to the lvremove
    assert backend.lines()[-1].startswith("lvremove ")
    assert not backend.vg.lv_path("volume-0001").exists()


def test_thin_volumes_are_never_wiped(thin):
    thin.driver.create_volume("0001", 1)

    thin.driver.delete_volume("0001")

    assert not [c for c in thin.commands if c["argv"][0] == "dd"]
    assert thin.vg.get_lv("volume-0001") is None


def test_deleting_a_thick_snapshot_wipes_its_cow_device(thick):
    thick.driver.create_volume("0001", 1)
    thick.driver.create_snapshot("snapshot-0009", "0001")
    thick.commands.clear()

    thick.driver.delete_snapshot("snapshot-0009")

    assert thick.lines("dd")[-1] == (
        "dd if=/dev/zero of=/dev/mapper/cinder--volumes-_snapshot--0009-cow "
        f"count={GiB} bs=1M iflag=count_bytes oflag=direct"
    )
    assert thick.vg.get_lv("_snapshot-0009") is None


# ---------------------------------------------------------------------------- stats


def test_thick_stats_report_the_volume_group_as_cinders_lvm_driver_does(tmp_path):
    backend = Backend(
        tmp_path,
        volume_backend_name="lvmdriver-1",
        reserved_percentage=5,
        extra_capabilities={"tier": "gold"},
    )
    backend.driver.create_volume("0001", 3)

    stats = backend.driver.get_volume_stats(refresh=True)

    pool = stats.pop("pools")[0]
    assert stats == {
        "volume_backend_name": "lvmdriver-1",
        "vendor_name": "Open Source",
        "driver_version": "3.0.0",
        "storage_protocol": "iSCSI",
        "shared_targets": False,
        "sparse_copy_volume": False,
    }
    assert pool == {
        "pool_name": "lvmdriver-1",
        "total_capacity_gb": 10.0,
        "free_capacity_gb": 7.0,
        "provisioned_capacity_gb": 3.0,
        "reserved_percentage": 5,
        "max_over_subscription_ratio": 20.0,
        "location_info": "LVMVolumeDriver:storage-1:cinder-volumes:default:0",
        "QoS_support": False,
        "thin_provisioning_support": False,
        "thick_provisioning_support": True,
        "total_volumes": 1,
        "filter_function": None,
        "goodness_function": None,
        "multiattach": True,
        "backend_state": "up",
        "tier": "gold",
    }


def test_thin_stats_report_the_pool_and_what_is_provisioned_in_it(tmp_path):
    backend = Backend(tmp_path, thin_pool=True, lvm_type="thin", max_over_subscription_ratio="auto")
    backend.driver.create_volume("0001", 8)
    backend.driver.create_volume("0002", 8)
    backend.write("volume-0001", b"\x01" * (97 * MiB))

    stats = backend.driver.get_volume_stats()

    pool = stats["pools"][0]
    assert pool["total_capacity_gb"] == 9.5
    assert pool["free_capacity_gb"] == pytest.approx(9.5 - 97 / 1024, abs=0.01)
    assert pool["provisioned_capacity_gb"] == 16.0
    assert pool["total_volumes"] == 3  # the pool is an LV too, as Cinder counts it
    assert pool["thin_provisioning_support"] is True
    assert pool["max_over_subscription_ratio"] == "auto"
    assert stats["sparse_copy_volume"] is True
    assert pool["location_info"].endswith(":thin:0")


def test_stats_are_cached_until_refresh_is_asked(thick):
    first = thick.driver.get_volume_stats(refresh=True)
    thick.commands.clear()

    again = thick.driver.get_volume_stats(refresh=False)

    assert again == first
    assert thick.commands == []


# --------------------------------------------------------------------------- config


@pytest.mark.parametrize(
    "options",
    [
        {"lvm_type": "lvm"},
        {"volume_clear": "shred"},
        {"volume_clear_size": 2048},
        {"reserved_percentage": 101},
        {"max_over_subscription_ratio": "lots"},
    ],
)
def test_the_config_refuses_values_cinder_would_refuse(options):
    with pytest.raises(ValueError):
        LVMConfig(**options)


def test_the_ratio_may_come_as_text_and_is_kept_as_a_number():
    assert LVMConfig(max_over_subscription_ratio="1.5").max_over_subscription_ratio == 1.5
