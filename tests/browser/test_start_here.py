"""Start here: the dashboard's three scenarios, each reaching its end state on its live page."""

import pytest

from agent.models import Fault
from core.kernel.models import FlowRun
from tests.browser.conftest import screenshot
from tests.browser.test_live_volume_page import settle

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def start(page, server, key: str) -> str:
    page.goto(f"{server}/")
    page.click(f'[data-scenario="{key}"]')
    page.wait_for_url(f"{server}/volumes/**")
    page.wait_for_selector("[data-teaching]", timeout=30_000)  # marked as a teaching aid
    return page.url.rstrip("/").rsplit("/", 1)[1]


def test_the_three_start_here_scenarios_reach_their_ends(login, server, world):
    page = login(world.owner)
    page.goto(f"{server}/")
    page.wait_for_selector('#live-badge[data-state="live"]')
    screenshot(page, "dashboard-start-here", docs=True)

    start(page, server, "plain")
    page.wait_for_selector('#lane-manager [data-state="running"]', timeout=30_000)
    screenshot(page, "teaching-pace-mid-create", docs=True)
    settle(page, ("available",))

    volume_id = start(page, server, "no-backend")
    settle(page, ("error",))
    assert page.query_selector('[data-surprise="no_backend_success"]') is not None
    assert "No valid backend" in page.inner_text("#volume-facts")
    assert not FlowRun.objects.filter(volume_id=volume_id, flow="manager").exists()

    volume_id = start(page, server, "reschedule")
    settle(page, ("available",))
    screenshot(page, "reschedule-explained", docs=True)
    attempts = FlowRun.objects.filter(volume_id=volume_id, flow="manager", operation="create")
    assert sorted(attempts.values_list("state", flat=True)) == ["reverted", "success"]
    assert Fault.objects.get(volume_id=volume_id).fail_next == 0  # spent, on this volume only


def test_a_reader_is_not_offered_the_scenarios(login, server, world):
    from core.cinder.models import Membership

    Membership.objects.filter(user=world.member).update(role="reader")
    page = login(world.member)
    assert page.query_selector("#start-here") is None
