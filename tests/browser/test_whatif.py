"""What-if in a real browser: pick a type, size and zone; see the ranking and the trace."""

import pytest

from core.cinder.models import Volume
from scheduler.models import DecisionTrace
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_a_member_asks_where_a_gold_volume_would_go_and_sees_why(world, server, login):
    # Other tests' volumes may still be scheduling: look only at what appears from now on.
    last_trace = DecisionTrace.objects.order_by("-id").values_list("id", flat=True).first() or 0
    page = login(world.member)
    page.click("text=What if")
    page.select_option("select[name=volume_type]", "gold")
    page.fill("input[name=size]", "5")
    page.click("text=Show the decision")

    chosen = page.locator("[data-whatif-chosen]")
    assert chosen.inner_text() == "node2@lvm-gold#LVM_gold"
    ranking = page.locator("[data-rank-pool]")
    assert ranking.count() == 1
    # The trace: the silver pools fail the CapabilitiesFilter, with the numbers shown.
    silver = page.locator('[data-trace-pool="node1@lvm-thick#LVM_thick"]')
    assert "capability storage_tier 'silver' does not match 'gold'" in silver.inner_text()
    funnel = page.locator("[data-funnel-step=chosen]")
    assert funnel.get_attribute("data-count") == "1"
    screenshot(page, "what-if-gold", docs=True)
    # Nothing created: no volume in this project, and no trace without a real volume.
    assert not Volume.objects.filter(project=world.project).exists()
    new_traces = DecisionTrace.objects.filter(id__gt=last_trace).values_list("volume_id", flat=True)
    assert set(new_traces) <= set(Volume.objects.values_list("id", flat=True))


def test_asking_for_more_than_any_pool_holds_shows_no_valid_backend(world, server, login):
    page = login(world.member)
    page.goto(f"{server}/scheduler/what-if/?volume_type=__DEFAULT__&size=100000")

    reason = page.locator("[data-whatif-reason]").inner_text()
    assert reason.startswith("No valid backend was found. CapacityFilter rejected all")
    assert "needs 100000 GiB" in page.locator(".trace-table").inner_text()
    screenshot(page, "what-if-no-valid-backend")


def test_an_admin_disables_a_backend_on_the_pools_page_and_what_if_leaves_it_out(
    world, server, login
):
    import uuid

    from scheduler import backends
    from tests.conftest import make_user

    admin = make_user(f"pools-admin-{uuid.uuid4().hex[:6]}", world.project, is_superuser=True)
    page = login(admin)
    try:
        page.click("text=Pools")
        row = page.locator('[data-pool="node2@lvm-gold#LVM_gold"]')
        assert row.get_attribute("data-status") == "up"
        assert "GiB used" in row.locator(".bar").first.get_attribute("aria-label")
        row.locator("input[name=reason]").fill("replacing a disk")
        row.locator('[data-disable="node2@lvm-gold"]').click()

        row = page.locator('[data-pool="node2@lvm-gold#LVM_gold"]')
        assert row.get_attribute("data-status") == "disabled"
        assert row.locator("[data-pool-reason]").inner_text() == "replacing a disk"
        screenshot(page, "pools-page-disabled")

        page.click("text=What if")
        page.select_option("select[name=volume_type]", "gold")
        page.click("text=Show the decision")
        reason = page.locator("[data-whatif-reason]").inner_text()
        assert "backend disabled: replacing a disk" in reason
        outcome = page.locator('[data-trace-pool="node2@lvm-gold#LVM_gold"] [data-outcome]')
        assert outcome.inner_text() == "excluded: backend disabled: replacing a disk"
    finally:
        backends.set_disabled("node2@lvm-gold", False)
