"""Create a volume through the real form and watch every task finish live."""

import re

import pytest

from agent.drivers import backend_config, data_dir
from agent.models import Fault
from core.cinder.models import Volume
from tests.browser.conftest import screenshot
from tests.integration.agent_support import first_choice
from tests.live.support import RECORD_STATES_JS

pytestmark = [pytest.mark.browser, pytest.mark.integration]

ALL_DONE = """() => {
  const tasks = [...document.querySelectorAll('[data-task]')];
  const status = document.querySelector('[data-volume-status]');
  return tasks.length === 13 && tasks.every(t => t.dataset.state === 'success')
    && status && status.dataset.volumeStatus === 'available';
}"""


@pytest.fixture
def slow_first_choice(live_db):
    """Creates on the pool the form's volume goes to take a second: the page lands mid-flow."""
    fault = Fault.objects.create(
        backend=backend_config(first_choice()), operation="create", latency_ms=1000
    )
    yield
    fault.delete()


def test_a_volume_created_in_the_form_goes_live_to_available(
    world, server, login, slow_first_choice
):
    page = login(world.owner)
    page.add_init_script(f"document.addEventListener('DOMContentLoaded', {RECORD_STATES_JS})")
    page.goto(f"{server}/volumes/create/")
    page.fill("input[name=name]", "from-the-form")
    page.fill("input[name=size]", "1")
    page.click("#create-submit")
    page.wait_for_url(re.compile(r"/volumes/[0-9a-f-]{36}/$"))
    landed = page.url
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))

    page.wait_for_function(ALL_DONE, timeout=60_000)

    assert navigations == [] and page.url == landed  # live, no reload
    # The page landed before the volume was made, then changed by itself.
    seen = page.evaluate("window.seenStates")["task-manager-1-CreateVolumeFromSpecTask"]
    assert seen[0] in ("pending", "running") and seen[-1] == "success"
    flows = {el.get_attribute("data-flow") for el in page.query_selector_all("[data-task]")}
    assert flows == {"api", "scheduler", "manager"}
    screenshot(page, "volume-page")
    volume = Volume.objects.get(id=landed.rstrip("/").rsplit("/", 1)[1])
    assert volume.status == "available" and volume.size == 1
    backing = data_dir(backend_config(volume.host)) / f"volume-{volume.id}.img"
    assert backing.stat().st_size == 2**30
    page.goto(f"{server}/")
    page.wait_for_selector(f"#volume-row-{volume.id}")
    screenshot(page, "dashboard")
