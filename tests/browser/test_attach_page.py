"""Manage attachments on the volume page: attach to a pretend server and watch the volume go
in-use live (no reload), with the connector and the connection info shown; then detach."""

import json

import pytest

from core.cinder import quota
from core.cinder.models import Volume
from tests.browser.conftest import screenshot
from tests.integration.agent_support import create, wait_available

pytestmark = [pytest.mark.browser, pytest.mark.integration]

# Every status the page's facts show, in order, across websocket swaps.
RECORD_STATUSES_JS = """() => {
  window.seenStatuses = [];
  window.notReloaded = true;
  const note = () => {
    const el = document.querySelector('#volume-facts [data-volume-status]');
    const seen = window.seenStatuses;
    if (el && seen[seen.length - 1] !== el.dataset.volumeStatus) seen.push(el.dataset.volumeStatus);
  };
  note();
  new MutationObserver(note).observe(document.body, {subtree: true, childList: true,
    attributes: true, attributeFilter: ['data-volume-status']});
}"""


def test_attach_from_the_page_goes_in_use_live_and_detach_frees_it(world, server, login):
    volume = wait_available(create(world, size=1, name="web-data").id)
    page = login(world.owner)
    page.goto(f"{server}/volumes/{volume.id}/")
    page.wait_for_selector("#live-badge[data-state=live]")
    page.evaluate(RECORD_STATUSES_JS)

    page.fill("#attach-form input[name=server]", "web-1")
    page.click("#attach-submit")

    page.wait_for_selector('#volume-facts [data-volume-status="in-use"]')
    attached = page.locator('#volume-attachments [data-attachment-status="attached"]')
    attached.wait_for()
    assert page.text_content("#attach-outcome") == "Attached to web-1 on compute-1."
    info = json.loads(attached.locator("[data-connection-info]").text_content())
    assert info["driver_volume_type"] == "iscsi"
    assert info["target_iqn"] == f"iqn.2010-10.org.openstack:volume-{volume.id}"
    assert info["auth_method"] == "CHAP" and info["target_portal"].endswith(":3260")
    connector = json.loads(attached.locator("[data-connector]").text_content())
    assert connector["host"] == "compute-1" and connector["initiator"].startswith("iqn.")
    assert page.evaluate("window.notReloaded") is True
    seen = page.evaluate("window.seenStatuses")
    assert seen[0] == "available" and seen[-1] == "in-use"
    assert Volume.objects.get(id=volume.id).attach_status == "attached"
    screenshot(page, "volume-attached")

    page.click("[data-detach]")

    page.wait_for_selector('#volume-facts [data-volume-status="available"]')
    page.wait_for_selector("#volume-attachments >> text=Not attached.")
    assert page.evaluate("window.notReloaded") is True
    assert Volume.objects.get(id=volume.id).attach_status == "detached"
    assert quota.check(str(world.project.pk)) == []


def test_a_volume_in_error_cannot_be_attached_and_says_why(world, server, login):
    volume = wait_available(create(world, size=1, name="broken").id)
    Volume.objects.filter(id=volume.id).update(status="error")
    page = login(world.owner)
    page.goto(f"{server}/volumes/{volume.id}/")

    page.fill("#attach-form input[name=server]", "web-2")
    page.click("#attach-submit")

    page.wait_for_selector("#attach-outcome[role=alert]")
    assert "error state" in page.text_content("#attach-outcome")
    assert Volume.objects.get(id=volume.id).status == "error"
