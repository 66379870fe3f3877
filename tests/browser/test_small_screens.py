"""Every page on a phone (390 px) and from the keyboard: nothing scrolls sideways, every
navigation link is on screen, the controls are labelled, nothing fails in the console or
the network; a skip link and a current-page marker."""

import pytest

from tests.browser.conftest import screenshot
from tests.integration.agent_support import create, wait_available

pytestmark = [pytest.mark.browser, pytest.mark.integration]

PHONE = {"width": 390, "height": 844}
PAGES = [
    "/",
    "/volumes/",
    "/volumes/create/",
    "/volumes/images/",
    "/scheduler/pools/",
    "/scheduler/what-if/",
    "/scheduler/what-if/?volume_type=__DEFAULT__&size=1&availability_zone=nova",
    "/volumes/{volume}/",
    "/volumes/{volume}/extend/",
    "/volumes/{volume}/delete/",
    "/volumes/{volume}/retype/",
    "/accounts/password_change/",
    "/no-such-page/",
]
EXPECTED_404 = "/no-such-page/"  # the one page that answers 404, on purpose
ADMIN_PAGES = [
    "/backends/",
    "/volumes/{volume}/reset-status/",
    "/volumes/{volume}/force-delete/",
    "/volumes/{volume}/migrate/",
]
MEMBER_NAV = ["Dashboard", "Volumes", "Create volume", "Images", "Pools", "What if"]
ADMIN_NAV = [*MEMBER_NAV, "Backends", "Admin"]

# What a user on a phone would notice: a page wider than the screen, a control off it or
# without a name a screen reader could say.
LAYOUT_JS = """() => {
  const width = document.documentElement.clientWidth;
  const offscreen = (el) => { const r = el.getBoundingClientRect();
    return r.width === 0 || r.left < 0 || r.right > width + 0.5; };
  const controls = [...document.querySelectorAll('input, select, textarea')]
    .filter(el => el.type !== 'hidden' && !el.closest('[hidden]'));
  return {
    scrollWidth: document.documentElement.scrollWidth, width,
    nav: [...document.querySelectorAll('#main-nav a')].map(a => a.textContent.trim()),
    navOffscreen: [...document.querySelectorAll('#main-nav a, .who button')]
      .filter(offscreen).map(a => a.textContent.trim()),
    unlabelled: controls.filter(el => !(el.labels && el.labels.length)
      && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby')
      && !el.title).map(el => el.name || el.outerHTML.slice(0, 80)),
    current: [...document.querySelectorAll('[aria-current=page]')].map(a => a.textContent.trim()),
  };
}"""


def watch_problems(page) -> list[str]:
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            m.type == "error"
            and not m.location.get("url", "").endswith(EXPECTED_404)
            and problems.append(f"console: {m.text} ({m.location})")
        ),
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    # net::ERR_ABORTED is the browser cancelling a load as the test moves on to the next page
    # (the favicon, fetched after the load event, often is); refusals and server errors show
    # as other failures or as status codes below.
    page.on(
        "requestfailed",
        lambda r: (
            "ERR_ABORTED" not in (r.failure or "")
            and problems.append(f"failed: {r.url} {r.failure}")
        ),
    )
    page.on(
        "response",
        lambda r: (
            r.status >= 400
            and not r.url.endswith(EXPECTED_404)
            and problems.append(f"{r.status}: {r.url}")
        ),
    )
    return problems


@pytest.fixture
def volume(world, cloud):
    return wait_available(create(world, size=1, name="on-a-phone").id)


@pytest.mark.parametrize("who", ["member", "admin"])
def test_every_page_fits_a_phone_with_every_link_reachable(
    world, admin_user, volume, server, login, who
):
    admin = who == "admin"
    page = login(admin_user if admin else world.member, **PHONE)
    problems = watch_problems(page)
    for path in PAGES + (ADMIN_PAGES if admin else []):
        url = server + path.format(volume=volume.id)
        answer = page.goto(url)
        assert answer.status == (404 if "no-such" in path else 200), path
        page.wait_for_load_state("load")
        layout = page.evaluate(LAYOUT_JS)

        assert layout["scrollWidth"] <= layout["width"], f"{path} scrolls sideways: {layout}"
        assert layout["nav"] == (ADMIN_NAV if admin else MEMBER_NAV), path
        assert layout["navOffscreen"] == [], f"{path}: {layout['navOffscreen']} off screen"
        assert layout["unlabelled"] == [], f"{path}: unlabelled {layout['unlabelled']}"
        if path in ("/volumes/", "/volumes/{volume}/"):
            assert layout["current"] == ["Volumes"], path
    assert problems == []


def test_the_login_page_fits_a_phone(browser, server):
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        problems = watch_problems(page)
        page.goto(f"{server}/accounts/login/")
        layout = page.evaluate(LAYOUT_JS)
    finally:
        context.close()
    assert layout["scrollWidth"] <= layout["width"] and layout["unlabelled"] == []
    assert problems == []


def test_the_volume_page_on_a_phone_keeps_the_timeline_readable(world, volume, server, login):
    page = login(world.owner, **PHONE)
    page.goto(f"{server}/volumes/{volume.id}/")
    page.wait_for_selector("#live-badge[data-state=live]")
    page.wait_for_selector(".gantt")

    # Measured in one go in the page: the socket's first picture may swap the sections in
    # at any moment, and a handle taken before that swap has no box.
    layout = page.evaluate(
        """() => {
          const gantt = document.querySelector('.gantt').getBoundingClientRect();
          const card = document.querySelector('#volume-gantt').getBoundingClientRect();
          return {gantt: gantt.width, cardX: card.x, cardWidth: card.width,
                  scrollWidth: document.documentElement.scrollWidth};
        }"""
    )
    assert layout["gantt"] >= 560  # labels and bars keep their room...
    assert layout["cardX"] >= 0  # ...inside the card, which stays on screen
    assert layout["cardX"] + layout["cardWidth"] <= PHONE["width"]
    assert layout["scrollWidth"] <= PHONE["width"]
    screenshot(page, "phone-volume-page")


def test_the_keyboard_skips_to_the_content_and_sees_where_it_is(world, server, login):
    page = login(world.member)
    page.goto(f"{server}/volumes/")

    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to the content"
    assert page.is_visible(".skip-link")
    page.keyboard.press("Enter")

    assert page.evaluate("document.activeElement.id") == "main"
    current = page.query_selector_all("#main-nav [aria-current=page]")
    assert [a.text_content() for a in current] == ["Volumes"]


def test_the_favicon_answers(world, server, login):
    page = login(world.member)
    icon = page.get_attribute("link[rel=icon]", "href")
    assert page.request.get(server + icon).status == 200
    answer = page.request.get(f"{server}/favicon.ico")
    assert answer.status == 200 and "svg" in answer.headers["content-type"]
