"""The LVM driver after the create: revert to a snapshot, retype, and the pieces of a migration
(the copy to another backend, the rename on the destination), with Cinder's command lines."""

from pathlib import Path

import pytest

from agent.storage.allowlist import Allowlist
from agent.storage.exception import LVMDriverError
from agent.storage.lvm import LVMConfig, LVMDriver
from agent.storage.simulated import SimulatedRunner
from agent.storage.simvg import GiB, MiB, SimulatedVolumeGroup
from tests.agent.test_lvm_driver import VG, Backend

BEFORE = b"written before the snapshot " * 32
AFTER = b"written after the snapshot!! " * 32


@pytest.fixture
def thick(tmp_path: Path) -> Backend:
    return Backend(tmp_path / "thick")


def test_a_thick_revert_merges_the_snapshot_and_makes_it_again_with_cinders_commands(thick):
    thick.driver.create_volume("0001", 1)
    thick.write("volume-0001", BEFORE, offset=5 * MiB)
    thick.driver.create_snapshot("snapshot-0009", "0001")
    thick.write("volume-0001", AFTER, offset=5 * MiB)
    thick.commands.clear()

    thick.driver.revert_to_snapshot("0001", "snapshot-0009")

    changes = [line for line in thick.lines() if " lvs " not in line and "lvdisplay" not in line]
    assert changes == [
        f"lvconvert --merge {VG}/_snapshot-0009",
        f"lvchange -a n {VG}/volume-0001",
        f"lvchange -a y --yes -K {VG}/volume-0001",
        f"env LC_ALL=C lvcreate --name _snapshot-0009 --snapshot {VG}/volume-0001 -L 1.00g",
    ]
    merge = thick.commands[0]
    assert merge["stdout"] == (
        f"  Merging of volume {VG}/_snapshot-0009 started.\n  {VG}/volume-0001: Merged: 100.00%\n"
    )
    assert thick.read("volume-0001", len(BEFORE), 5 * MiB) == BEFORE
    assert thick.read("_snapshot-0009", len(BEFORE), 5 * MiB) == BEFORE
    assert thick.vg.get_lv("_snapshot-0009").origin == "volume-0001"


def test_a_thin_revert_is_left_to_the_managers_generic_way(tmp_path):
    thin = Backend(tmp_path / "thin", lvm_type="thin")
    thin.driver.create_volume("0001", 1)
    thin.driver.create_snapshot("snapshot-0009", "0001")
    thin.commands.clear()

    with pytest.raises(NotImplementedError, match="not implemented for thin LVM"):
        thin.driver.revert_to_snapshot("0001", "snapshot-0009")
    assert thin.commands == []


def test_merging_what_is_not_a_snapshot_fails_with_lvms_words(thick):
    thick.driver.create_volume("0001", 1)

    with pytest.raises(LVMDriverError) as failure:
        thick.driver.revert_to_snapshot("0001", "volume-0001")
    assert str(failure.value) == (
        f"Command on LV {VG}/volume-0001 does not accept LV type linear. "
        f"Command not permitted on LV {VG}/volume-0001."
    )


def test_retype_changes_nothing_on_an_lvm_volume(thick):
    thick.driver.create_volume("0001", 1)
    thick.commands.clear()

    assert thick.driver.retype("0001") is True
    assert thick.driver.migrate_volume("0001") == (False, None)
    assert thick.commands == []


def test_the_destination_renames_the_new_lv_to_the_original_name(thick):
    thick.driver.create_volume("dest", 1)
    thick.write("volume-dest", BEFORE)
    thick.commands.clear()

    update = thick.driver.update_migrated_volume("orig", "dest", None, "", "available")

    assert update == {"name_id": None, "provider_location": None}
    assert thick.lines() == [f"lvrename {VG} volume-dest volume-orig"]
    assert thick.commands[0]["stdout"] == (
        f'  Renamed "volume-dest" to "volume-orig" in volume group "{VG}"\n'
    )
    assert thick.read("volume-orig", len(BEFORE)) == BEFORE
    assert thick.vg.get_lv("volume-dest") is None


def test_an_attached_or_unrenamable_volume_points_at_the_new_lv_instead(thick):
    thick.driver.create_volume("dest", 1)
    thick.driver.create_volume("orig", 1)  # the name is taken: lvrename refuses
    thick.commands.clear()

    attached = thick.driver.update_migrated_volume("orig", "dest", None, "loc", "in-use")
    assert attached == {"name_id": "dest", "provider_location": "loc"}
    assert thick.commands == []

    refused = thick.driver.update_migrated_volume("orig", "dest", None, "loc", "available")
    assert refused == {"name_id": "dest", "provider_location": "loc"}
    assert thick.lines() == [f"lvrename {VG} volume-dest volume-orig"]
    assert thick.commands[0]["exit_code"] == 5


def test_a_migration_copies_with_the_clone_paths_dd_into_the_other_backends_volume(tmp_path):
    """Two backends, each its own volume group: the source's dd writes the destination's data
    file, which is how the destination's volume is reached from this machine."""
    source = Backend(tmp_path / "node1" / "thick")
    gold_vg = SimulatedVolumeGroup(tmp_path / "node2" / "gold", VG, 10, thin_pool=False)
    allowlist = Allowlist(file_roots=[str(tmp_path)], write_roots=[str(tmp_path)])
    gold = LVMDriver(SimulatedRunner(gold_vg, allowlist=allowlist), LVMConfig())
    source.driver.runner.allowlist = allowlist
    source.driver.create_volume("orig", 1)
    source.write("volume-orig", BEFORE, offset=7 * MiB)
    source.write("volume-orig", b"tail", offset=GiB - 4)
    gold.create_volume("dest", 1)
    source.commands.clear()

    dest_path = gold.remote_path("dest")
    source.driver.copy_volume_data("orig", dest_path, 1, sparse=False)

    assert dest_path == str(gold_vg.lv_path("volume-dest"))
    src = "/dev/mapper/cinder--volumes-volume--orig"
    copies = [line for line in source.lines("dd") if "count=0" not in line]
    assert copies == [
        f"dd if={src} of={dest_path} count={GiB} bs=1M iflag=count_bytes,direct oflag=direct"
    ]
    with open(dest_path, "rb") as data:
        data.seek(7 * MiB)
        assert data.read(len(BEFORE)) == BEFORE
        data.seek(GiB - 4)
        assert data.read(4) == b"tail"


def test_the_copy_is_sparse_when_the_destination_says_so(tmp_path):
    source = Backend(tmp_path / "a")
    target = Backend(tmp_path / "b", lvm_type="thin")
    source.driver.runner.allowlist = Allowlist(
        file_roots=[str(tmp_path)], write_roots=[str(tmp_path)]
    )
    source.driver.create_volume("orig", 1)
    target.driver.create_volume("dest", 1)
    source.commands.clear()

    source.driver.copy_volume_data("orig", target.driver.remote_path("dest"), 1, sparse=True)

    assert source.lines("dd")[-1].endswith("conv=sparse")
