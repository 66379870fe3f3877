"""The simulated VG refuses an over-size lvcreate as LVM does; the volume goes elsewhere.

Two backends of our own (one agent process, started here, reporting once an hour so
the scheduler's view stays as it was at start). The bigger one's VG is then filled
out of band: the scheduler still picks it, its ``lvcreate`` fails with LVM's message,
the agent refreshes its report and reschedules, and attempt 2 lands on the other one.

The big backend keeps 10% reserved: on a retry the scheduler gives the failed attempt's
size back to that pool on top of the fresh report (Cinder's
revert_volume_consumed_capacity does the same), so a full pool with nothing reserved
would look like it had exactly the requested space again.
"""

import pytest

from core.kernel.models import FlowRun
from tests.integration.agent_support import (
    add_backend,
    create,
    dedicated_type,
    retire_backends,
    start_agent,
    unique_tag,
    volume_group,
    wait_available,
)

pytestmark = pytest.mark.integration


def test_an_over_size_lvcreate_is_refused_with_lvms_message_and_the_volume_reschedules(
    world, cloud
):
    tag = unique_tag()
    host = f"fullnode-{tag}"
    vtype = dedicated_type(tag)
    add_backend(host, "big", tag, size_gb=40, reserved_percentage=10)
    add_backend(host, "small", tag, size_gb=20)
    name = start_agent(cloud, host, ["big", "small"], BACKEND_STATS_POLLING_INTERVAL="3600")
    try:
        vg = volume_group(f"{host}@big")
        vg.create_lv("filler", vg.info()["free_bytes"])  # out of band: the scheduler can't know

        volume = wait_available(create(world, size=5, volume_type=vtype.name).id)
    finally:
        cloud.stop(name)
        retire_backends(host)

    assert volume.host == f"{host}@small#LVM_small"
    runs = list(FlowRun.objects.filter(volume_id=volume.id, flow="manager").order_by("attempt"))
    assert [(r.attempt, r.host.partition("#")[0], r.state) for r in runs] == [
        (1, f"{host}@big", "reverted"),
        (2, f"{host}@small", "success"),
    ]
    failed = runs[0].tasks.get(name="CreateVolumeFromSpecTask")
    lvcreate = next(c for c in failed.commands if "lvcreate" in c["argv"])
    assert lvcreate["argv"][-5:] == ["-n", f"volume-{volume.id}", "cinder-volumes", "-L", "5g"]
    assert lvcreate["exit_code"] == 5
    assert 'Volume group "cinder-volumes" has insufficient free space' in lvcreate["stderr"]
    assert "1280 required" in lvcreate["stderr"]
    assert "insufficient free space" in failed.failure
