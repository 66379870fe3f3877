"""More updates than the channel can hold: the page still ends in the final state.

channels-redis drops a group message silently when a member's channel is at
capacity (runtime-notes C2). The burst below is sent with a layer whose
capacity is tiny (group_send enforces the *sender's* capacity), so drops are
certain; the test proves they happened, then checks what the user sees.
"""

import asyncio
import logging
import re
import threading
import time

import pytest
from channels_redis.core import RedisChannelLayer
from django.conf import settings
from django.db import connection

from core.cinder.models import Volume
from core.kernel import events
from tests.live.support import PICTURE_JS
from tests.waiting import wait_until
from volumes import api

pytestmark = [pytest.mark.browser, pytest.mark.integration]

CAPACITY = 3
ROUNDS = 40
SENDS_PER_ROUND = 10  # concurrent nudges after each change: far above the capacity


def burst(volume_id, rounds: int) -> None:
    """Change the volume, then nudge its watchers many times at once; repeat.

    Runs in its own thread: Playwright's sync API owns this thread's event loop.
    """
    config = settings.CHANNEL_LAYERS["default"]["CONFIG"] | {"capacity": CAPACITY}
    group = events.volume_group(volume_id)
    message = {"type": "volume.changed", "volume_id": str(volume_id), "kind": "flow"}
    errors = []

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        layer = RedisChannelLayer(**config)
        try:
            for i in range(1, rounds + 1):
                Volume.objects.filter(id=volume_id).update(display_name=f"burst-{i}")
                sends = [layer.group_send(group, message) for _ in range(SENDS_PER_ROUND)]
                loop.run_until_complete(asyncio.gather(*sends))
        except Exception as error:  # reported in the test's thread
            errors.append(error)
        finally:
            loop.run_until_complete(layer.close_pools())
            loop.close()
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=120)
    assert not errors, errors


def test_a_page_ends_in_the_final_state_after_more_updates_than_the_capacity(
    world, server, login, caplog
):
    volume = api.create(api.request_context(world.owner, world.project), size=1, name="burst-0")
    wait_until(
        lambda: Volume.objects.filter(id=volume.id, status="available").exists(),
        timeout=60,
        what="the volume to become available",
    )
    page = login(world.owner)
    page.goto(f"{server}/volumes/{volume.id}/")
    page.wait_for_selector("#live-badge[data-state=live]")

    with caplog.at_level(logging.INFO, logger="channels_redis.core"):
        burst(volume.id, ROUNDS)

    dropped = sum(
        int(m.group(1))
        for r in caplog.records
        if (m := re.match(r"(\d+) of \d+ channels over capacity", r.getMessage()))
    )
    assert dropped > 0, "the burst should have overflowed the page's channel"
    burst_ended = time.monotonic()
    page.wait_for_selector(f'[data-volume-name="burst-{ROUNDS}"]', timeout=30_000)
    caught_up = time.monotonic() - burst_ended
    assert page.evaluate(PICTURE_JS)["status"] == "available"
    print(
        f"{ROUNDS * SENDS_PER_ROUND} nudges sent at capacity {CAPACITY}: {dropped} dropped; "
        f"page final {caught_up:.2f} s after the burst"
    )
