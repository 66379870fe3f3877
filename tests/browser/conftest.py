"""A real headless browser: Debian's chromium driven by Playwright."""

import os
from pathlib import Path

import pytest

from tests.conftest import PASSWORD

# Playwright's sync API keeps an event loop in this thread; the tests still
# read the database between browser steps, which Django would otherwise refuse.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@pytest.fixture
def login(browser, server):
    """Open a fresh browser context logged in as ``user``; returns its page."""
    contexts = []

    def log_in(user, width: int = 1400, height: int = 1000):
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(f"{server}/accounts/login/")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server}/")
        return page

    yield log_in
    for context in contexts:
        context.close()


DOCS_IMG = ARTIFACTS.parent / "docs" / "img"


def screenshot(page, name: str, docs: bool = False) -> Path:
    """Into artifacts/ always; ``docs`` ones also into docs/img/ (the README's pictures)
    when the suite runs with DOCS_SCREENSHOTS=1."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if docs and os.environ.get("DOCS_SCREENSHOTS") == "1":
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS_IMG / f"{name}.png"), full_page=False)
    return path
