"""Migrating a volume from the web UI, watched live: an admin picks a pool, the page shows the
migration's runs as one operation (the destination's create and the old copy's delete
among them) until the volume is on its new backend."""

import pytest

from agent.drivers import backend_config
from agent.models import Fault
from core.cinder.models import Volume
from tests.browser.conftest import screenshot
from tests.browser.test_live_volume_page import create_in_form, settle
from tests.integration.agent_support import delete_left_over

pytestmark = [pytest.mark.browser, pytest.mark.integration]
GOLD = "node2@lvm-gold#LVM_gold"


def test_an_admin_migrates_a_volume_from_its_page_and_watches_it_move(
    login, server, world, admin_user
):
    page = login(admin_user)
    volume_id = create_in_form(page, server, "mover")
    settle(page)
    volume = Volume.objects.get(id=volume_id)
    # Latency on the source's copy, so the running dd can be seen.
    fault = Fault.objects.create(
        backend=backend_config(volume.host), operation="migrate", latency_ms=1500
    )
    try:
        page.click("#action-migrate")
        page.select_option("select[name=host]", GOLD)
        page.click("#migrate-submit")
        page.wait_for_url(f"{server}/volumes/{volume_id}/")
        copy = '[data-operation="migrate"] [data-task="CopyVolumeDataTask"]'
        page.wait_for_selector(f'{copy}[data-state="running"]', timeout=30_000)
        page.wait_for_selector(
            '[data-operation="migrate"] [data-task="FinishVolumeMigrationTask"]'
            '[data-state="success"]',
            timeout=60_000,
        )
        page.wait_for_selector(f'#volume-facts:has-text("{GOLD}")')
        block = page.inner_text('[data-operation="migrate"]')
        for flow in (
            "volume_migrate_manager",
            "volume_create_manager",
            "volume_migrate_completion",
        ):
            assert flow in block
        assert "dd if=/dev/mapper/" in page.text_content(copy)
        screenshot(page, "volume-migrated")
    finally:
        fault.delete()
        delete_left_over(world)
