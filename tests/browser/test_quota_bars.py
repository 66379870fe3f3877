"""The create form's limit bars: they follow the size as it is typed, and other tabs' creates."""

import pytest

from tests.browser.conftest import screenshot
from tests.quota.helpers import limit
from volumes import api

pytestmark = [pytest.mark.browser, pytest.mark.integration]

GIGABYTES = "#quota-bars [data-resource=gigabytes]"


def bar_is(page, **expected: str) -> None:
    """Wait until the gigabytes bar's data attributes (and the button) read as expected."""
    checks = " && ".join(
        f"bar.dataset.{key} === {value!r}" for key, value in expected.items() if key != "button"
    )
    button = expected.get("button")
    if button is not None:
        checks += f" && document.querySelector('#create-submit').textContent === {button!r}"
    page.wait_for_function(
        f"() => {{ const bar = document.querySelector({GIGABYTES!r}); return bar && {checks}; }}",
        timeout=60_000,
    )


def requested_width(page) -> str:
    return page.eval_on_selector(f"{GIGABYTES} [data-seg-requested]", "el => el.style.width")


def test_the_bars_follow_the_typed_size_and_disable_the_button_at_the_limit(world, server, login):
    limit(world.project, "gigabytes", 10)
    context = api.request_context(world.owner, world.project)
    api.create(context, size=4, name="already-there")
    page = login(world.owner)
    page.goto(f"{server}/volumes/create/")
    page.wait_for_selector(GIGABYTES)

    page.fill("input[name=size]", "2")
    bar_is(page, inUse="4", state="ok", button="Create volume")
    assert requested_width(page) == "20%"
    assert page.text_content(f"{GIGABYTES} [data-requested]") == "2"

    page.fill("input[name=size]", "5")
    bar_is(page, state="warning")
    assert requested_width(page) == "50%"

    page.fill("input[name=size]", "6")  # exactly the limit still fits
    bar_is(page, state="danger", button="Create volume")
    assert page.is_enabled("#create-submit")

    page.fill("input[name=size]", "7")
    bar_is(page, state="exceeded", button="Create volume (Quota exceeded)")
    assert page.is_disabled("#create-submit")
    assert page.text_content(f"{GIGABYTES} [data-over]") == " · 1 over the limit"
    screenshot(page, "quota-bars-exceeded")

    page.fill("input[name=size]", "2")
    bar_is(page, state="ok", button="Create volume")
    assert page.is_enabled("#create-submit")


def test_a_create_in_another_tab_moves_the_bars_live(world, server, login):
    limit(world.project, "gigabytes", 10)
    context = api.request_context(world.owner, world.project)
    page = login(world.member)
    page.goto(f"{server}/volumes/create/")
    page.wait_for_selector(GIGABYTES)
    page.fill("input[name=size]", "3")
    bar_is(page, inUse="0", state="ok", button="Create volume")
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))

    api.create(context, size=5, name="other-tab")  # 5 + 3 of 10: still fits
    bar_is(page, inUse="5", state="warning", button="Create volume")
    api.create(context, size=3, name="other-tab-2")  # 8 + 3 of 10: no longer fits
    bar_is(page, inUse="8", state="exceeded", button="Create volume (Quota exceeded)")

    assert navigations == []  # live, no reload
    assert page.is_disabled("#create-submit")
    screenshot(page, "quota-bars-live")
