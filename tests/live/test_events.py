"""Nudges are sent behind the caller, each distinct one at least once, and a flush
delivers everything published so far: what a work horse does before it exits."""

import asyncio
import os
import uuid

import pytest
from channels.layers import get_channel_layer

from core.kernel import events
from tests.live.test_consumers import run

pytestmark = pytest.mark.integration


def received_in_group(publish, group: str | None = None) -> list[dict]:
    """Join ``group`` (a fresh one by default), let ``publish(group)`` run in a forked
    child that flushes and leaves with ``os._exit`` (as an RQ horse), then drain what the
    group got."""
    group = group or f"t-{uuid.uuid4().hex[:8]}"

    async def scenario():
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        pid = os.fork()
        if pid == 0:
            publish(group)
            os._exit(0 if events.flush() else 1)
        _, status = await asyncio.to_thread(os.waitpid, pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        got = []
        while True:
            try:
                got.append(await asyncio.wait_for(layer.receive(channel), timeout=0.5))
            except TimeoutError:
                return got

    return run(scenario)


def test_every_distinct_nudge_published_before_a_flush_is_delivered(live_db):
    def publish(group):
        for i in range(5):
            events.send(group, {"type": "volume.changed", "volume_id": str(i), "kind": "flow"})

    got = received_in_group(publish)

    assert sorted(m["volume_id"] for m in got) == ["0", "1", "2", "3", "4"]


def test_a_burst_of_one_nudge_is_sent_far_fewer_times_than_published(live_db):
    def publish(group):
        for _ in range(500):
            events.send(group, {"type": "volume.changed", "volume_id": "v", "kind": "flow"})

    got = received_in_group(publish)

    # At least once (after the last publish), and coalesced well under the channel's
    # capacity of 100, so a burst can no longer overflow a watcher's channel.
    assert 1 <= len(got) < 50


def test_a_project_watching_many_changing_volumes_is_nudged_once_a_round_not_per_volume(
    live_db,
):
    project_id = uuid.uuid4().hex

    def publish(group):
        for _ in range(200):
            events.volume_changed(uuid.uuid4(), project_id)

    got = received_in_group(publish, events.project_group(project_id))

    # The project's page re-reads its volumes on any nudge: 200 changes in one burst
    # are a handful of nudges, not 200 that each re-render the page.
    assert 1 <= len(got) < 20
    assert all(m["type"] == "volume.changed" for m in got)


def test_a_watched_group_is_nudged_when_the_round_also_holds_groups_nobody_watches(live_db):
    def publish(group):
        for i in range(20):
            events.send(f"unwatched-{uuid.uuid4().hex[:8]}", {"type": "volume.changed"})
            events.send(group, {"type": "volume.changed", "volume_id": str(i), "kind": "flow"})

    got = received_in_group(publish)

    assert sorted(int(m["volume_id"]) for m in got) == list(range(20))
