"""The Volumes page follows the project without a reload: new rows, statuses, deletes."""

import pytest

from tests.integration.agent_support import context, create, wait_available
from volumes import api

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_the_volumes_page_follows_creates_and_deletes_live(login, server, world):
    page = login(world.owner)
    page.goto(f"{server}/volumes/")
    page.wait_for_selector('#live-badge[data-state="live"]')

    volume = create(world, size=1, name="appears")
    row = f"#volume-row-{volume.id}"
    page.wait_for_selector(row, timeout=30_000)
    page.wait_for_selector(f'{row} [data-volume-status="available"]', timeout=60_000)

    wait_available(volume.id)
    api.delete(context(world), volume.id)
    page.wait_for_selector(row, state="detached", timeout=60_000)
    assert "No volumes yet" in page.inner_text("#volume-table")


def test_an_outsider_cannot_watch_another_projects_list(login, server, world):
    page = login(world.outsider)
    page.goto(f"{server}/volumes/")
    page.wait_for_selector('#live-badge[data-state="live"]')  # their own project: allowed
    refused = page.evaluate(
        """(url) => new Promise((done) => {
          const ws = new WebSocket(url);
          ws.onclose = (e) => done(e.code);
          ws.onmessage = () => done('message');
        })""",
        f"{server.replace('http', 'ws')}/ws/projects/{world.project.pk}/volumes/",
    )
    assert refused != "message"  # refused before any picture (closed during the handshake)
