"""The dashboard, live: volumes, events, pools, queues, workers and hosts."""

import pytest

from tests.browser.conftest import screenshot
from volumes import api

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_the_dashboard_shows_a_new_volume_going_live_to_available(world, server, login):
    page = login(world.owner)
    page.wait_for_selector("#live-badge[data-state=live]")
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))

    volume = api.create(api.request_context(world.member, world.project), size=1, name="dash")

    row = f"#volume-row-{volume.id}"
    page.wait_for_selector(f'{row} [data-volume-status="available"]', timeout=60_000)
    page.wait_for_selector('#dash-feed [data-feed="notification"] >> text=volume.create.end')
    assert navigations == []
    assert page.locator("#dash-feed").inner_text().count("dash") >= 3  # flows and notifications
    pools = page.locator("#dash-pools [data-pool]")
    assert pools.count() >= 3
    assert page.locator("#dash-pools .bar").count() == pools.count()
    queues = page.locator("#dash-queues [data-queue]").evaluate_all(
        "rows => rows.map(r => r.dataset.queue)"
    )
    assert "scheduler" in queues and "volume.node2@lvm-gold" in queues
    assert page.locator("#dash-queues [data-worker]").count() >= 2  # the scheduler and agents
    assert page.locator("#dash-services [data-host]").count() >= 1  # agent host stats
    screenshot(page, "dashboard")
