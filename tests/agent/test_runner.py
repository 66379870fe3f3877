"""The runners: an allowlist in rootwrap's spirit, real and simulated execution, recording."""

import logging
import os
import shutil
import stat
import subprocess
import uuid
from pathlib import Path

import pytest

from agent.storage.allowlist import SPECS, Allowlist, CommandSpec
from agent.storage.exception import LVMDriverError
from agent.storage.lvm import LVMConfig, LVMDriver
from agent.storage.runner import (
    CommandNotAllowed,
    CommandResult,
    ProcessExecutionError,
    RealRunner,
)
from agent.storage.simulated import SimulatedRunner
from agent.storage.simvg import MiB, SimulatedVolumeGroup

VG = "cinder-volumes"


@pytest.fixture
def vg(tmp_path: Path) -> SimulatedVolumeGroup:
    return SimulatedVolumeGroup(tmp_path / "vg", VG, size_gb=2, thin_pool=False)


def fake_bin(directory: Path, name: str, script: str) -> Path:
    """An executable stand-in for a system tool."""
    directory.mkdir(exist_ok=True)
    path = directory / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


# ------------------------------------------------------------------------------ allowlist


def test_an_unlisted_command_is_refused_logged_and_recorded_without_running(tmp_path, caplog):
    marker = tmp_path / "ran"
    bin_dir = tmp_path / "bin"
    fake_bin(bin_dir, "rm", f"touch {marker}\n")
    recorded: list[dict] = []
    runner = RealRunner(exec_dirs=[bin_dir, "/usr/bin", "/bin"], sink=recorded.append)

    with caplog.at_level(logging.WARNING), pytest.raises(CommandNotAllowed) as refusal:
        runner.run(["rm", "-rf", "/var/lib/cinder"])

    assert not marker.exists()
    assert refusal.value.exit_code == 99  # rootwrap's "unauthorized"
    assert refusal.value.reason == "rm is not on the allowlist"
    assert refusal.value.stderr == (
        "Unauthorized command: rm -rf /var/lib/cinder (no filter matched)\n"
    )
    assert "Refused command rm -rf /var/lib/cinder" in caplog.text
    assert [entry["argv"] for entry in recorded] == [["rm", "-rf", "/var/lib/cinder"]]


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["lvs", "--noheadings"], "lvs must run as `env LC_ALL=C lvs`"),
        (["env", "LC_ALL=C", "LD_PRELOAD=/x.so", "lvs"], "env LD_PRELOAD=/x.so is not allowed"),
        (["env", "LANG=C", "lvs"], "env LANG=C is not allowed"),
        (["env", "LC_ALL=C", "lvremove", "-f", "vg/lv"], "lvremove must not run through env"),
        (["lvremove", "vg/lv"], "lvremove: --force is required"),
        (["lvremove", "-f", "vg/lv; reboot"], "lvremove: argument 'vg/lv; reboot' is not allowed"),
        (
            ["env", "LC_ALL=C", "lvcreate", "-n", "x", "vg", "-L", "1g", "--type=raid1"],
            "lvcreate: option '--type=raid1' is not allowed",
        ),
        (
            ["dd", "if=/dev/zero", "of=/etc/passwd", "count=1"],
            "dd: '/etc/passwd' is outside the agent's directories",
        ),
        (["dd", "if=/dev/sda", "of=/dev/mapper/vg-lv"], "dd: operand 'if=/dev/sda' is not allowed"),
        (
            ["dd", "if=/../etc/shadow", "of=/dev/vg/lv"],
            "dd: operand 'if=/../etc/shadow' is not allowed",
        ),
        (
            ["qemu-img", "convert", "-O", "raw", "/images/a.raw", "/tmp/out"],
            "qemu-img convert may only write to a logical volume",
        ),
        (["ionice", "-c3", "rm", "x"], "rm is not on the allowlist"),
        (["lvresize", "-L", "2g", "vg/lv"], "lvresize is not on the allowlist"),
        (["env", "LC_ALL=C", "lvconvert", "--merge", "vg/s"], "lvconvert must not run through env"),
        (["lvconvert", "--type", "raid1", "vg/lv"], "lvconvert: option '--type' is not allowed"),
        (["lvrename", "vg", "lv"], "lvrename: takes 3..3 arguments, got 2"),
        (["lvrename", "vg", "lv", "../x"], "lvrename: argument '../x' is not allowed"),
    ],
)
def test_the_allowlist_refuses_what_rootwrap_would_not_run(vg, argv, reason):
    with pytest.raises(CommandNotAllowed) as refusal:
        SimulatedRunner(vg).run(argv)

    assert refusal.value.reason == reason


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["dd", "if=/dev/./sda", "of=/dev/vg/lv"], "dd: '/dev/./sda' is not a plain path"),
        (
            ["dd", "if=/dev/../swapfile", "of=/dev/vg/lv"],
            "dd: '/dev/../swapfile' is not a plain path",
        ),
        (["dd", "if=/dev/zero", "of=/dev/vg/.."], "dd: '/dev/vg/..' is not a plain path"),
        (["dd", "if=/dev/zero", "of=/dev/mapper/.."], "dd: '/dev/mapper/..' is not a plain path"),
        (
            ["dd", "if=/proc/self/environ", "of=/dev/vg/lv"],
            "dd: '/proc/self/environ' is outside the agent's directories",
        ),
        (
            ["qemu-img", "info", "--output=json", "/srv/images//a.qcow2"],
            "qemu-img info: '/srv/images//a.qcow2' is not a plain path",
        ),
        (
            ["qemu-img", "info", "--output=json", "/srv/images-other/a.qcow2"],
            "qemu-img info: '/srv/images-other/a.qcow2' is outside the agent's directories",
        ),
        (
            ["env", "LC_ALL=C", "LVM_SYSTEM_DIR=/root", "vgs"],
            "vgs: '/root' is outside the agent's directories",
        ),
        (
            ["dd", "if=/dev/vg/lv", "of=/srv/images/a.raw"],
            "dd: may not write '/srv/images/a.raw'",
        ),
    ],
)
def test_the_allowlist_refuses_dot_paths_and_files_the_agent_does_not_own(vg, argv, reason):
    runner = SimulatedRunner(vg, allowlist=Allowlist(file_roots=["/srv/images"]))
    with pytest.raises(CommandNotAllowed) as refusal:
        runner.run(argv)

    assert refusal.value.reason == reason


def test_files_under_the_agents_own_directories_pass(vg, tmp_path):
    image = tmp_path / "images" / "a.raw"
    image.parent.mkdir()
    image.write_bytes(b"\0" * 512)
    runner = SimulatedRunner(vg, allowlist=Allowlist(file_roots=[str(tmp_path / "images")]))

    info = runner.run(["env", "LC_ALL=C", "qemu-img", "info", "--output=json", str(image)])

    assert '"format": "raw"' in info.stdout


def test_ionice_and_cgexec_chain_to_an_allowed_command(vg):
    runner = SimulatedRunner(vg)
    runner.run(["env", "LC_ALL=C", "lvcreate", "-n", "volume-a", VG, "-L", "4m"])

    wipe = [
        "dd",
        "if=/dev/zero",
        f"of=/dev/{VG}/volume-a",
        "count=4096",
        "bs=1M",
        "iflag=count_bytes",
    ]
    runner.run(["ionice", "-c3", *wipe])
    runner.run(["cgexec", "-g", "blkio:cinder-volume-copy", "ionice", "-c2", "-n7", *wipe])


# --------------------------------------------------------------------------- RealRunner


def test_the_real_runner_runs_the_resolved_executable_with_cinders_exact_arguments(tmp_path):
    bin_dir = tmp_path / "bin"
    seen = tmp_path / "seen"
    fake_bin(
        bin_dir,
        "lvcreate",
        f'echo "LC_ALL=$LC_ALL" > {seen}\nprintf "%s\\n" "$@" >> {seen}\n'
        "echo '  Logical volume \"volume-1\" created.'\n",
    )
    runner = RealRunner(exec_dirs=[bin_dir, "/usr/bin", "/bin"])
    argv = ["env", "LC_ALL=C", "lvcreate", "-n", "volume-1", VG, "-L", "1g"]

    result = runner.run(argv)

    assert runner.command_for(argv) == [
        shutil.which("env", path="/usr/bin:/bin"),
        "LC_ALL=C",
        str(bin_dir / "lvcreate"),
        "-n",
        "volume-1",
        VG,
        "-L",
        "1g",
    ]
    assert seen.read_text().splitlines() == ["LC_ALL=C", "-n", "volume-1", VG, "-L", "1g"]
    assert result.argv == argv
    assert result.stdout == '  Logical volume "volume-1" created.\n'
    assert result.exit_code == 0
    assert result.duration_ms > 0


def test_the_real_runner_puts_the_root_helper_in_front(tmp_path):
    fake_bin(tmp_path / "bin", "lvremove", "exit 0\n")
    runner = RealRunner(
        root_helper=["sudo", "cinder-rootwrap", "/etc/cinder/rootwrap.conf"],
        exec_dirs=[tmp_path / "bin"],
    )

    assert runner.command_for(["lvremove", "-f", f"{VG}/volume-1"]) == [
        "sudo",
        "cinder-rootwrap",
        "/etc/cinder/rootwrap.conf",
        str(tmp_path / "bin" / "lvremove"),
        "-f",
        f"{VG}/volume-1",
    ]


def test_a_non_zero_exit_raises_with_the_whole_result(tmp_path):
    fake_bin(
        tmp_path / "bin",
        "lvremove",
        "echo '  Failed to find logical volume \"vg/x\"' >&2\nexit 5\n",
    )
    recorded: list[dict] = []
    runner = RealRunner(exec_dirs=[tmp_path / "bin"], sink=recorded.append)

    with pytest.raises(ProcessExecutionError) as failure:
        runner.run(["lvremove", "-f", "vg/x"])

    assert failure.value.exit_code == 5
    assert failure.value.stderr == '  Failed to find logical volume "vg/x"\n'
    assert "Command: lvremove -f vg/x\nExit code: 5" in str(failure.value)
    assert recorded == [failure.value.result.to_dict()]


def test_a_missing_executable_answers_with_rootwraps_exit_code_96(tmp_path):
    runner = RealRunner(exec_dirs=[tmp_path / "empty"])

    with pytest.raises(ProcessExecutionError) as failure:
        runner.run(["lvchange", "-a", "y", "--yes", "-K", f"{VG}/volume-1"])

    assert failure.value.exit_code == 96
    assert failure.value.stderr == "Executable not found: lvchange\n"


# ---------------------------------------------------------------------- SimulatedRunner


def test_the_simulated_runner_says_what_lvm_version_says(vg):
    out = SimulatedRunner(vg).run(["env", "LC_ALL=C", "lvm", "version"]).stdout

    assert out.splitlines()[0] == "  LVM version:     2.03.16(2) (2022-05-18)"


def test_the_simulated_runner_plays_every_command_the_allowlist_lets_through(vg):
    assert set(SimulatedRunner(vg).commands) == set(SPECS)


def test_an_allowed_command_the_simulation_does_not_play_is_not_found(vg):
    runner = SimulatedRunner(vg, allowlist=Allowlist({"lvscan": CommandSpec("env")}))

    with pytest.raises(ProcessExecutionError) as failure:
        runner.run(["env", "LC_ALL=C", "lvscan"])

    assert failure.value.exit_code == 127
    assert failure.value.stderr == "lvscan: command not found\n"


def test_simulated_dd_reports_like_gnu_dd_and_stops_at_the_end_of_the_device(vg):
    runner = SimulatedRunner(vg)
    runner.run(["env", "LC_ALL=C", "lvcreate", "-n", "volume-a", VG, "-L", "4m"])

    fitting = runner.run(["dd", "if=/dev/zero", f"of=/dev/{VG}/volume-a", "count=3", "bs=1M"])
    with pytest.raises(ProcessExecutionError) as failure:
        runner.run(["dd", "if=/dev/zero", f"of=/dev/{VG}/volume-a", "count=5", "bs=1M"])

    assert fitting.stderr.splitlines()[:2] == ["3+0 records in", "3+0 records out"]
    assert fitting.stderr.splitlines()[2].startswith("3145728 bytes (3.1 MB, 3.0 MiB) copied, ")
    assert failure.value.exit_code == 1
    assert failure.value.stderr.splitlines()[0] == (
        f"dd: error writing '/dev/{VG}/volume-a': No space left on device"
    )


def test_simulated_dd_cannot_open_a_device_that_does_not_exist(vg):
    with pytest.raises(ProcessExecutionError) as failure:
        SimulatedRunner(vg).run(["dd", "if=/dev/zero", f"of=/dev/{VG}/ghost", "count=1"])

    assert (
        failure.value.stderr == f"dd: failed to open '/dev/{VG}/ghost': No such file or directory\n"
    )


def test_simulated_dd_copies_bytes_between_volumes(vg):
    runner = SimulatedRunner(vg)
    for name in ("volume-a", "volume-b"):
        runner.run(["env", "LC_ALL=C", "lvcreate", "-n", name, VG, "-L", "8m"])
    with open(vg.lv_path("volume-a"), "r+b") as data:
        data.seek(5 * MiB)
        data.write(b"payload")

    runner.run(
        [
            "dd",
            f"if=/dev/{VG}/volume-a",
            "of=/dev/mapper/cinder--volumes-volume--b",
            f"count={8 * MiB}",
            "bs=1M",
            "iflag=count_bytes",
        ]
    )

    assert vg.lv_path("volume-b").read_bytes() == vg.lv_path("volume-a").read_bytes()


def test_capture_collects_the_commands_run_inside_the_block(vg):
    runner = SimulatedRunner(vg)
    runner.run(["env", "LC_ALL=C", "lvm", "version"])

    with runner.capture() as commands:
        runner.run(["env", "LC_ALL=C", "vgs", "--noheadings", "-o", "name", VG])

    assert [c.command_line for c in commands] == [f"env LC_ALL=C vgs --noheadings -o name {VG}"]
    assert isinstance(commands[0], CommandResult)


def test_a_command_result_is_plain_data():
    result = CommandResult(
        ["lvremove", "--config", "activation { retry_deactivation = 1} ", "-f", "vg/lv"],
        "",
        "",
        0,
        1.5,
    )

    assert result.to_dict() == {
        "argv": ["lvremove", "--config", "activation { retry_deactivation = 1} ", "-f", "vg/lv"],
        "stdout": "",
        "stderr": "",
        "exit_code": 0,
        "duration_ms": 1.5,
    }
    assert (
        result.command_line == "lvremove --config 'activation { retry_deactivation = 1} ' -f vg/lv"
    )


# ------------------------------------------------------------------------ real LVM, if any


def _real_lvm_unavailable() -> str | None:
    if os.geteuid() != 0:
        return "needs root to drive LVM"
    for tool in ("lvcreate", "vgcreate", "pvcreate", "losetup", "dmsetup"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    if not Path("/dev/mapper/control").exists():
        return "device-mapper is not available (no /dev/mapper/control)"
    probe = subprocess.run(["dmsetup", "version"], capture_output=True, text=True, check=False)
    if probe.returncode != 0 or "Driver version" not in probe.stdout:
        return "device-mapper does not answer: " + (probe.stderr.strip() or probe.stdout.strip())
    return None


def test_the_real_runner_drives_real_lvm_the_way_the_simulation_does(tmp_path):
    """Only where lvcreate and device-mapper really work: a loop-backed VG, then Cinder's path."""
    reason = _real_lvm_unavailable()
    if reason:
        pytest.skip(f"real LVM integration: {reason}")
    vg_name = f"cinderlab-test-{uuid.uuid4().hex[:8]}"
    backing = tmp_path / "pv.img"
    backing.write_bytes(b"")
    os.truncate(backing, 2 * 1024 * MiB)
    sh = {"check": True, "capture_output": True, "text": True}
    loop = subprocess.run(["losetup", "-f", "--show", str(backing)], **sh).stdout.strip()
    try:
        subprocess.run(["pvcreate", loop], **sh)
        subprocess.run(["vgcreate", vg_name, loop], **sh)
        commands: list[dict] = []
        driver = LVMDriver(
            RealRunner(sink=commands.append), LVMConfig(volume_group=vg_name, volume_clear_size=1)
        )
        driver.check_for_setup_error()

        driver.create_volume("one", 1)
        with pytest.raises(LVMDriverError) as too_big:
            driver.create_volume("two", 5)
        stats = driver.get_volume_stats()
        driver.delete_volume("one")

        assert f'Volume group "{vg_name}" has insufficient free space' in str(too_big.value)
        assert too_big.value.result.exit_code == 5
        assert stats["pools"][0]["total_volumes"] == 1
        assert ["env", "LC_ALL=C", "lvcreate", "-n", "volume-one", vg_name, "-L", "1g"] in [
            c["argv"] for c in commands
        ]
        assert driver.vg.get_volume("volume-one") is None
    finally:
        subprocess.run(["vgremove", "-f", vg_name], capture_output=True, check=False)
        subprocess.run(["pvremove", "-f", loop], capture_output=True, check=False)
        subprocess.run(["losetup", "-d", loop], capture_output=True, check=False)
