"""Revert to snapshot, retype and migrate, driven by the real `cinder` CLI against a live stack
with real workers: each ends in Cinder's documented state with quota still true."""

import pytest

from core.cinder import quota
from core.cinder.models import Snapshot, Volume
from tests.api.conftest import status_of
from tests.integration.agent_support import backing_file, operation_ended, read_at, write_at
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
MiB = 1024**2


def created(owner, *args: str, size: str = "1") -> Volume:
    volume = owner.properties("create", "--name", "moving", *args, size)
    wait_until(status_of(Volume, volume["id"]), timeout=60, what="the volume")
    return Volume.objects.get(id=volume["id"])


def snapshot(owner, volume: Volume) -> str:
    snap = owner.properties("snapshot-create", str(volume.id))
    wait_until(status_of(Snapshot, snap["id"]), timeout=60, what="the snapshot")
    return snap["id"]


def test_cinder_revert_to_snapshot_brings_the_latest_snapshots_data_back(cli, world):
    owner, _ = cli
    volume = created(owner, "--volume-type", "gold", "--availability-zone", "az2")
    write_at(backing_file(volume), 3 * MiB, b"first state")
    older = snapshot(owner, volume)
    write_at(backing_file(volume), 3 * MiB, b"second state")
    latest = snapshot(owner, volume)
    write_at(backing_file(volume), 3 * MiB, b"third state!")

    refused = owner.run("revert-to-snapshot", older, check=False)
    assert refused.returncode != 0 and "(HTTP 400)" in refused.stderr
    assert "not the latest one" in refused.stderr

    owner.run("revert-to-snapshot", latest)
    volume = operation_ended(volume.id, "revert")
    assert owner.properties("show", str(volume.id))["status"] == "available"
    assert read_at(backing_file(volume), 3 * MiB, 12) == b"second state"
    assert owner.properties("snapshot-show", latest)["status"] == "available"
    assert quota.check(str(world.project.pk)) == []
