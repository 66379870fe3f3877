"""``manage.py schedule``: one decision over a fleet file, for people and for scripts."""

import json
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.scheduler_integration.support import fleet_file, lvm_caps


@pytest.fixture
def fleet(tmp_path):
    data = fleet_file(3)
    data["pools"][0]["availability_zone"] = "az2"
    data["pools"].append(
        {"name": "tiny@lvm#lvm", "capabilities": lvm_caps(10.0, 2.0)}  # zone defaults to nova
    )
    path = tmp_path / "fleet.json"
    path.write_text(json.dumps(data))
    return path


def schedule(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("schedule", *args, stdout=out)
    return out.getvalue()


def test_json_output_has_exactly_the_documented_shape(fleet):
    result = json.loads(schedule("--fleet", str(fleet), "--size", "5", "--json"))

    assert set(result) == {"filters", "weighed", "chosen", "elapsed_ms"}
    assert [f["name"] for f in result["filters"]] == [
        "AvailabilityZoneFilter",
        "CapacityFilter",
        "CapabilitiesFilter",
    ]
    for step in result["filters"]:
        assert set(step) == {"name", "passed", "failed"}
    assert result["filters"][1]["failed"] == {
        "tiny@lvm#lvm": "needs 5 GiB; virtual free 2 GiB = min(free 2, (10 − 0 reserved) − 8 "
        "provisioned) (thick)"
    }
    weights = [w["weight"] for w in result["weighed"]]
    assert weights == sorted(weights, reverse=True)
    assert all(set(w) == {"name", "weight"} for w in result["weighed"])
    assert result["chosen"] == result["weighed"][0]["name"] == "sim2@lvm-2#lvm-2"
    assert isinstance(result["elapsed_ms"], float) and result["elapsed_ms"] > 0


def test_the_zone_and_extra_specs_narrow_the_choice(fleet):
    result = json.loads(
        schedule(
            "--fleet",
            str(fleet),
            "--size",
            "1",
            "--availability-zone",
            "az2",
            "--extra-specs",
            '{"capabilities:storage_tier": "sim"}',
            "--json",
        )
    )

    assert result["chosen"] == "sim0@lvm-0#lvm-0"
    assert result["filters"][0]["passed"] == ["sim0@lvm-0#lvm-0"]
    assert result["filters"][0]["failed"]["tiny@lvm#lvm"] == (
        "availability zone 'nova' is not the requested 'az2'"
    )


def test_no_valid_backend_prints_null_and_the_reason_in_text_mode(fleet):
    result = json.loads(schedule("--fleet", str(fleet), "--size", "100000", "--json"))
    assert result["chosen"] is None and result["weighed"] == []

    text = schedule("--fleet", str(fleet), "--size", "100000")
    assert "chosen: none" in text
    assert "No valid backend was found. CapacityFilter rejected all 4 pools." in text


@pytest.mark.parametrize(
    "args, message",
    [
        (["--fleet", "/nonexistent/fleet.json", "--size", "1"], "does not exist"),
        (["--size", "0"], "--size must be at least 1 GiB"),
        (["--size", "ten"], "--size must be a whole number of GiB"),
        (["--size", "1", "--extra-specs", "{nope"], "--extra-specs is not valid JSON"),
        (["--size", "1", "--extra-specs", '{"a": 1}'], "JSON object of strings"),
    ],
)
def test_bad_input_is_a_clear_error_with_exit_code_2(fleet, args, message):
    if "--fleet" not in args:
        args = ["--fleet", str(fleet), *args]
    with pytest.raises(CommandError, match=message) as caught:
        schedule(*args)
    assert caught.value.returncode == 2


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "is not valid JSON"),
        ('{"volumes": []}', 'expected {"pools": [...]}'),
        ('{"pools": [{"name": "no-hash"}]}', "needs a name like host@backend#pool"),
    ],
)
def test_a_bad_fleet_file_exits_2_from_the_command_line(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)

    done = subprocess.run(
        [sys.executable, "manage.py", "schedule", "--fleet", str(path), "--size", "1"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 2
    assert message in done.stderr
    assert done.stdout == ""
