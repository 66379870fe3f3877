"""The simulated volume group answers like LVM and keeps its promises across processes."""

import multiprocessing
import tempfile
import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.storage.runner import ProcessExecutionError
from agent.storage.simulated import SimulatedRunner
from agent.storage.simvg import GiB, MiB, SimulatedVolumeGroup

VG = "cinder-volumes"
LVM = ["env", "LC_ALL=C"]


@pytest.fixture
def vg(tmp_path: Path) -> SimulatedVolumeGroup:
    return SimulatedVolumeGroup(tmp_path / "vg", VG, size_gb=2, thin_pool=False)


@pytest.fixture
def run(vg: SimulatedVolumeGroup):
    return SimulatedRunner(vg).run


def lvcreate(run, name: str, size: str):
    return run([*LVM, "lvcreate", "-n", name, VG, "-L", size])


# ------------------------------------------------------------------------------- extents


def test_a_size_off_the_extent_grid_is_rounded_up_and_said_so(vg, run):
    result = lvcreate(run, "volume-a", "1.001g")

    assert result.stdout == (
        "  Rounding up size to full physical extent 1.00 GiB\n"
        '  Logical volume "volume-a" created.\n'
    )
    assert vg.get_lv("volume-a").extents == 257  # 1025.024 MiB -> 257 extents of 4 MiB
    assert vg.lv_path("volume-a").stat().st_size == 257 * 4 * MiB


def test_a_whole_number_of_gib_needs_no_rounding(vg, run):
    result = lvcreate(run, "volume-a", "1g")

    assert result.stdout == '  Logical volume "volume-a" created.\n'
    assert vg.get_lv("volume-a").extents == 256


@settings(max_examples=40, deadline=None)
@given(size_bytes=st.integers(min_value=512, max_value=64 * MiB).map(lambda n: n - n % 512))
def test_every_size_becomes_the_fewest_whole_extents_that_hold_it(size_bytes):
    with tempfile.TemporaryDirectory() as tmp:
        group = SimulatedVolumeGroup(Path(tmp), VG, size_gb=1, thin_pool=False)
        reply = group.create_lv("lv", size_bytes)

        extents = group.get_lv("lv").extents
        assert (extents - 1) * 4 * MiB < size_bytes <= extents * 4 * MiB
        assert any("Rounding up" in line for line in reply.stdout) == bool(size_bytes % (4 * MiB))


# ---------------------------------------------------------------------------- refusals


def test_lvcreate_beyond_the_free_space_fails_with_lvms_message_and_exit_code_5(vg, run):
    lvcreate(run, "volume-a", "1g")

    with pytest.raises(ProcessExecutionError) as failure:
        lvcreate(run, "volume-b", "5g")

    result = failure.value.result
    assert result.exit_code == 5
    assert result.stderr == (
        '  Volume group "cinder-volumes" has insufficient free space (256 extents): '
        "1280 required.\n"
    )
    assert vg.get_lv("volume-b") is None
    assert not vg.lv_path("volume-b").exists()


def test_a_rounded_request_that_no_longer_fits_prints_the_rounding_then_fails(vg, run):
    lvcreate(run, "volume-a", "1g")

    with pytest.raises(ProcessExecutionError) as failure:
        lvcreate(run, "volume-b", "1.001g")

    assert failure.value.stdout == "  Rounding up size to full physical extent 1.00 GiB\n"
    assert "(256 extents): 257 required." in failure.value.stderr


def test_a_taken_name_is_refused_as_lvm_refuses_it(run):
    lvcreate(run, "volume-a", "1g")

    with pytest.raises(ProcessExecutionError) as failure:
        lvcreate(run, "volume-a", "1g")

    assert failure.value.exit_code == 5
    assert failure.value.stderr == (
        '  Logical Volume "volume-a" already exists in volume group "cinder-volumes"\n'
    )


def test_names_starting_with_snapshot_are_reserved(run):
    with pytest.raises(ProcessExecutionError) as failure:
        lvcreate(run, "snapshot-1", "1g")

    assert failure.value.exit_code == 3
    assert failure.value.stderr == (
        '  Names starting "snapshot" are reserved. Please choose a different LV name.\n'
        "  Run `lvcreate --help' for more information.\n"
    )


def test_an_unknown_volume_group_is_not_found(run):
    with pytest.raises(ProcessExecutionError) as failure:
        run([*LVM, "lvcreate", "-n", "volume-a", "nosuchvg", "-L", "1g"])

    assert failure.value.exit_code == 5
    assert failure.value.stderr == (
        '  Volume group "nosuchvg" not found\n  Cannot process volume group nosuchvg\n'
    )


def test_looking_up_a_missing_lv_says_failed_to_find(run):
    with pytest.raises(ProcessExecutionError) as failure:
        run(
            [
                *LVM,
                "lvs",
                "--noheadings",
                "--unit=g",
                "-o",
                "vg_name,name,size",
                "--nosuffix",
                "--readonly",
                f"{VG}/nope",
            ]
        )

    assert failure.value.exit_code == 5
    assert failure.value.stderr == '  Failed to find logical volume "cinder-volumes/nope"\n'


# ------------------------------------------------------------------------------ reports


def test_lvs_and_vgs_lay_out_their_answers_as_lvm_does(vg, run):
    lvcreate(run, "volume-a", "1g")

    lvs = run(
        [
            *LVM,
            "lvs",
            "--noheadings",
            "--unit=g",
            "-o",
            "vg_name,name,size",
            "--nosuffix",
            "--readonly",
            VG,
        ]
    )
    vgs = run(
        [
            *LVM,
            "vgs",
            "--noheadings",
            "--unit=g",
            "-o",
            "name,size,free,lv_count,uuid",
            "--separator",
            ":",
            "--nosuffix",
            VG,
        ]
    )

    assert lvs.stdout == "  cinder-volumes volume-a  1.00\n"  # as a real lvs prints it
    assert vgs.stdout == f"  cinder-volumes:2.00:1.00:1:{vg.info()['uuid']}\n"


@pytest.mark.parametrize(
    ("units", "suffix", "size"),
    [
        ([], True, "1.50g"),  # human-readable, powers of 1024, by default
        (["--units", "H"], True, "1.61G"),  # human-readable, powers of 1000
        (["--units", "m"], True, "1536.00m"),
        (["--units", "M"], False, "1610.61"),
        (["--units", "b"], True, "1610612736b"),
        (["--units", "s"], True, "3145728S"),
        (["--units", "s"], False, "3145728"),
    ],
)
def test_lvs_lays_out_sizes_in_the_units_asked_for(vg, run, units, suffix, size):
    lvcreate(run, "volume-a", "1536m")

    lvs = run(
        [
            *LVM,
            "lvs",
            "--noheadings",
            *units,
            "-o",
            "lv_name,lv_size",
            *([] if suffix else ["--nosuffix"]),
            f"{VG}/volume-a",
        ]
    )

    assert lvs.stdout.split() == ["volume-a", size]


def test_usage_sums_up_the_group_for_a_dashboard(vg, run):
    lvcreate(run, "volume-a", "1g")

    usage = vg.usage()

    assert usage["size_gb"] == 2.0
    assert usage["free_gb"] == 1.0
    assert usage["free_extents"] == 256
    assert usage["thin_pool"] is None
    assert [(lv["name"], lv["type"], lv["size_gb"]) for lv in usage["lvs"]] == [
        ("volume-a", "thick", 1.0)
    ]


# ------------------------------------------------------------------------- thin volumes


def test_a_thin_pool_made_with_the_group_takes_95_percent_of_it(tmp_path):
    group = SimulatedVolumeGroup(tmp_path, VG, size_gb=10, thin_pool=True)

    pool = group.get_lv(f"{VG}-pool")

    assert pool.lv_type == "thin-pool"
    assert pool.extents * 4 * MiB == pytest.approx(9.5 * GiB, abs=4 * MiB)


def test_thin_volumes_may_oversubscribe_the_pool_with_lvms_warning(tmp_path):
    group = SimulatedVolumeGroup(tmp_path, VG, size_gb=10, thin_pool=True)
    run = SimulatedRunner(group).run
    pool = f"{VG}/{VG}-pool"

    first = run([*LVM, "lvcreate", "-T", "-V", "8g", "-n", "volume-a", pool])
    second = run([*LVM, "lvcreate", "-T", "-V", "8g", "-n", "volume-b", pool])

    assert first.stderr == ""
    assert second.exit_code == 0
    assert second.stderr == (
        "  WARNING: Sum of all thin volume sizes (16.00 GiB) exceeds the size of thin pool "
        "cinder-volumes/cinder-volumes-pool and the size of whole volume group (10.00 GiB).\n"
    )
    assert second.stdout.splitlines() == [
        "  WARNING: You have not turned on protection against thin pools running out of space.",
        "  WARNING: Set activation/thin_pool_autoextend_threshold below 100 to trigger "
        "automatic extension of thin pools before they get full.",
        '  Logical volume "volume-b" created.',
    ]
    assert group.usage()["thin_pool"]["provisioned_gb"] == 16.0
    assert group.lv_path("volume-b").stat().st_size == 8 * GiB
    assert group.lv_path("volume-b").stat().st_blocks == 0  # thin: nothing allocated yet


def test_a_thin_pool_fills_as_its_volumes_are_written(tmp_path):
    group = SimulatedVolumeGroup(tmp_path, VG, size_gb=1, thin_pool=True)
    SimulatedRunner(group).run(
        [*LVM, "lvcreate", "-T", "-V", "1g", "-n", "volume-a", f"{VG}/{VG}-pool"]
    )

    with open(group.lv_path("volume-a"), "r+b") as data:
        data.write(b"\xab" * (97 * MiB))

    assert group.data_percent(f"{VG}-pool") == pytest.approx(97 / (0.95 * 1024) * 100, rel=0.01)


# --------------------------------------------------------------------------- snapshots


def test_a_thick_snapshot_keeps_the_origins_bytes_from_the_moment_it_was_taken(vg, run):
    lvcreate(run, "volume-a", "1g")
    with open(vg.lv_path("volume-a"), "r+b") as data:
        data.write(b"before")

    run([*LVM, "lvcreate", "--name", "snap", "--snapshot", f"{VG}/volume-a", "-L", "1.00g"])
    with open(vg.lv_path("volume-a"), "r+b") as data:
        data.write(b"after!")

    with open(vg.lv_path("snap"), "rb") as snap:
        assert snap.read(6) == b"before"
    assert vg.get_lv("snap").lv_type == "snapshot"
    attr = run([*LVM, "lvdisplay", "--noheading", "-C", "-o", "Attr", f"{VG}/volume-a"])
    assert attr.stdout.strip()[0] == "o"  # brick's lv_has_snapshot reads this


def test_removing_an_origin_with_force_removes_its_cow_snapshots_too(vg, run):
    lvcreate(run, "volume-a", "1g")
    run([*LVM, "lvcreate", "--name", "snap", "--snapshot", f"{VG}/volume-a", "-L", "0.5g"])

    result = run(["lvremove", "-f", f"{VG}/volume-a"])

    assert result.stdout == (
        '  Logical volume "snap" successfully removed.\n'
        '  Logical volume "volume-a" successfully removed.\n'
    )
    assert vg.logical_volumes() == []
    assert vg.info()["free_count"] == vg.info()["extent_count"]


def test_a_thin_snapshot_waits_for_lvchange_K_before_its_device_appears(tmp_path):
    group = SimulatedVolumeGroup(tmp_path, VG, size_gb=4, thin_pool=True)
    run = SimulatedRunner(group).run
    run([*LVM, "lvcreate", "-T", "-V", "1g", "-n", "volume-a", f"{VG}/{VG}-pool"])

    run([*LVM, "lvcreate", "--name", "_snapshot-1", "--snapshot", f"{VG}/volume-a"])
    before = group.resolve_device(f"/dev/{VG}/_snapshot-1")
    run(["lvchange", "-a", "y", "--yes", "-K", f"{VG}/_snapshot-1"])

    assert before is None
    assert group.resolve_device(f"/dev/{VG}/_snapshot-1") == group.lv_path("_snapshot-1")
    assert group.resolve_device("/dev/mapper/cinder--volumes-_snapshot--1") is not None


# ------------------------------------------------------------------ several processes


def test_a_second_instance_sees_what_the_first_created(tmp_path, vg, run):
    lvcreate(run, "volume-a", "1g")

    again = SimulatedVolumeGroup(tmp_path / "vg", VG, size_gb=99, thin_pool=True)

    assert [lv.name for lv in again.logical_volumes()] == ["volume-a"]
    assert again.info()["extent_count"] == 512  # the group keeps its size


def _create_one(data_dir: str, name: str) -> None:
    group = SimulatedVolumeGroup(Path(data_dir), VG, size_gb=2, thin_pool=False)
    SimulatedRunner(group).run([*LVM, "lvcreate", "-n", name, VG, "-L", "256m"])


def test_a_process_that_looked_before_sees_what_another_made_since_and_keeps_it(tmp_path, run):
    data_dir = tmp_path / "vg"
    lvcreate(run, "volume-a", "1g")  # this process has read and written the group
    fork = multiprocessing.get_context("fork")
    other = fork.Process(target=_create_one, args=(str(data_dir), "volume-b"))
    other.start()
    other.join(timeout=60)
    assert other.exitcode == 0

    lvcreate(run, "volume-c", "256m")

    group = SimulatedVolumeGroup(data_dir, VG, size_gb=2, thin_pool=False)
    assert sorted(lv.name for lv in group.logical_volumes()) == ["volume-a", "volume-b", "volume-c"]
    assert group.info()["free_count"] == 512 - 256 - 64 - 64


def _grab(data_dir: str, attempts: int, results) -> None:
    group = SimulatedVolumeGroup(Path(data_dir), VG, size_gb=2, thin_pool=False)
    runner = SimulatedRunner(group)
    for _ in range(attempts):
        name = f"volume-{uuid.uuid4()}"
        try:
            runner.run([*LVM, "lvcreate", "-n", name, VG, "-L", "256m"])
            results.put(("created", name))
        except ProcessExecutionError as error:
            results.put(("refused", error.stderr))


def test_concurrent_lvcreate_from_several_processes_never_over_allocates(tmp_path):
    data_dir = tmp_path / "shared"
    SimulatedVolumeGroup(data_dir, VG, size_gb=2, thin_pool=False)  # 512 extents: 8 x 256m
    fork = multiprocessing.get_context("fork")  # RQ forks its job processes the same way
    results = fork.Queue()
    workers = [fork.Process(target=_grab, args=(str(data_dir), 4, results)) for _ in range(6)]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=60) for _ in range(6 * 4)]
    for worker in workers:
        worker.join(timeout=60)

    created = [name for kind, name in outcomes if kind == "created"]
    refused = [text for kind, text in outcomes if kind == "refused"]
    group = SimulatedVolumeGroup(data_dir, VG, size_gb=2, thin_pool=False)
    assert len(created) == 8
    assert len(refused) == 16
    assert all("has insufficient free space (0 extents): 64 required." in t for t in refused)
    assert sorted(lv.name for lv in group.logical_volumes()) == sorted(created)
    assert group.info()["free_count"] == 0
    assert sorted(p.stem for p in data_dir.glob("*.img")) == sorted(created)
