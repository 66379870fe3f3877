"""The pools page names each pool's capabilities and explains its capacity figures."""

import re

from django.urls import reverse

from tests.scheduler_integration.test_pages import client_for, ghosts  # noqa: F401 (a fixture)


def test_each_pool_shows_what_extra_specs_can_match_and_the_numbers_are_explained(
    world,
    ghosts,  # noqa: F811
):
    zone, hosts, pools = ghosts

    page = client_for(world.member).get(reverse("scheduler:pools"), {"q": zone}).content.decode()

    row = re.search(rf'<tr data-pool="{re.escape(pools["big"])}".*?</tr>', page, re.S).group(0)
    capabilities = re.search(r"<td class=\"capabilities\".*?</td>", row, re.S).group(0)
    assert "thick_provisioning_support=True" in capabilities
    assert "storage_protocol=iSCSI" in capabilities
    assert "total_capacity_gb" not in capabilities  # a number, shown as capacity
    explained = re.search(r'id="capacity-explained".*?</details>', page, re.S).group(0)
    for term in ("allocated_capacity_gb", "provisioned_capacity_gb", "max_over_subscription_ratio"):
        assert term in explained
