"""A volume's life from the web UI: extend it and watch the operation live; delete it with a
confirmation and find its page, with the delete flow, afterwards."""

import pytest

from agent.drivers import backend_config
from agent.models import Fault
from core.cinder.models import Volume
from tests.browser.conftest import screenshot
from tests.browser.test_live_volume_page import create_in_form, settle
from tests.waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_extend_and_delete_from_the_volume_page_live(login, server, world):
    page = login(world.owner)
    volume_id = create_in_form(page, server, "grows")
    settle(page)
    volume = Volume.objects.get(id=volume_id)
    # A second of latency on the backend's extend, so the running task can be seen.
    fault = Fault.objects.create(
        backend=backend_config(volume.host), operation="extend", latency_ms=1500
    )
    try:
        page.click("#action-extend")
        page.fill("input[name=new_size]", "2")
        page.click("#extend-submit")
        page.wait_for_url(f"{server}/volumes/{volume_id}/")
        page.wait_for_selector('[data-volume-status="extending"]', timeout=30_000)
        task = '[data-operation="extend"] [data-task="ExtendVolumeOnBackendTask"]'
        page.wait_for_selector(f'{task}[data-state="running"]', timeout=30_000)
        page.wait_for_selector(
            '[data-operation="extend"][data-operation-state="success"]', timeout=60_000
        )
    finally:
        fault.delete()
    page.wait_for_selector('[data-volume-status="available"]')
    assert "2 GiB" in page.inner_text("#volume-facts")
    assert page.query_selector(".flash[data-transient]") is None  # said while it ran only
    assert "lvextend -L 2g" in page.text_content(task)  # the command, on its task
    screenshot(page, "volume-extended", docs=True)

    page.click("#action-delete")
    page.wait_for_selector("#confirm-delete")
    assert "This cannot be undone" in page.inner_text("#confirm-delete")
    page.click("#confirm-delete-submit")
    wait_until(lambda: not Volume.objects.filter(id=volume_id).exists(), 60, "the delete")

    page.goto(f"{server}/volumes/{volume_id}/")
    page.wait_for_selector('[data-volume-status="deleted"]')
    page.wait_for_selector('[data-operation="delete"][data-operation-state="success"]')
    assert page.query_selector("#action-extend") is None
    assert "Deleted" in page.inner_text("#volume-actions")
