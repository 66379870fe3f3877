"""A live page rides out a Redis restart: it reconnects by itself and catches up."""

import pytest

from tests.faults.stack import PASSWORD, restarted
from tests.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.browser]


def test_the_dashboard_reconnects_after_redis_restarts_and_shows_what_happened_meanwhile(
    stack, tag, browser
):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.set_default_timeout(90_000)
        page.goto(f"{stack.url}/accounts/login/")
        page.fill("input[name=username]", "demo")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("#live-badge[data-state=live]")
        navigations = []
        page.on("framenavigated", lambda frame: navigations.append(frame.url))

        restarted(stack, "redis", stack.kill("redis"))
        answer = wait_until(
            lambda: (lambda a: a if a.status_code == 202 else None)(stack.create(tag)),
            timeout=60,
            what="a create to be accepted again",
        )

        volume_id = answer.json()["volume"]["id"]
        page.wait_for_selector(f'#volume-row-{volume_id} [data-volume-status="available"]')
        page.wait_for_selector("#live-badge[data-state=live]")
        assert navigations == []  # no reload: the socket came back by itself
    finally:
        context.close()
