"""The admin: defaults as an editable class, each project's limits beside its usage."""

import pytest
from django.test import Client

from core.cinder import quota
from core.cinder.models import QuotaClass, QuotaLimit
from tests.conftest import make_user
from tests.quota.helpers import limit
from volumes import api

pytestmark = pytest.mark.integration


@pytest.fixture
def admin_client(world) -> Client:
    client = Client()
    client.force_login(make_user(f"root-{world.project.pk[:8]}", is_staff=True, is_superuser=True))
    return client


def test_the_defaults_class_lists_every_resource_for_editing(admin_client):
    response = admin_client.get("/admin/cinder/quotaclass/?class_name=default")

    assert response.status_code == 200
    defaults = dict(
        QuotaClass.objects.filter(class_name="default").values_list("resource", "hard_limit")
    )
    assert set(quota.resource_names()) <= set(defaults)
    assert defaults["volumes"] == QuotaClass.objects.get(resource="volumes").hard_limit
    assert 'name="form-0-hard_limit"' in response.content.decode()


def test_a_project_page_shows_limits_with_usage_and_saves_an_override(world, admin_client):
    api.create(api.request_context(world.owner, world.project), size=3)
    url = f"/admin/cinder/quotalimit/project/{world.project.pk}/"

    page = admin_client.get(url).content.decode()
    row = page[page.index('<tr data-resource="gigabytes">') :]
    assert "<td>3</td>" in row[: row.index("</tr>")]  # in use

    admin_client.post(url, {"limit-gigabytes": "20"})

    assert quota.get_limits(world.project.pk)["gigabytes"] == 20


def test_a_limit_below_what_is_used_is_refused_in_the_admin(world, admin_client):
    api.create(api.request_context(world.owner, world.project), size=3)
    url = f"/admin/cinder/quotalimit/project/{world.project.pk}/"

    response = admin_client.post(url, {"limit-gigabytes": "2"}, follow=True)

    assert (
        "Quota gigabytes limit must be equal or greater than existing resources. "
        "Current usage is 3 and the requested limit is 2."
    ) in response.content.decode()
    assert not QuotaLimit.objects.filter(project=world.project).exists()


def test_clearing_an_override_brings_the_default_back(world, admin_client):
    limit(world.project, "volumes", 3)
    url = f"/admin/cinder/quotalimit/project/{world.project.pk}/"

    admin_client.post(url, {"limit-volumes": ""})

    assert quota.get_limits(world.project.pk)["volumes"] == quota.default_limits()["volumes"]


def test_usages_are_listed_read_only(world, admin_client):
    api.create(api.request_context(world.owner, world.project), size=1)

    response = admin_client.get(f"/admin/cinder/quotausage/?project__id__exact={world.project.pk}")

    assert response.status_code == 200
    assert "gigabytes___DEFAULT__" in response.content.decode()
    assert admin_client.get("/admin/cinder/quotausage/add/").status_code == 403


def test_admin_pages_of_moved_models_answer_at_their_old_addresses(admin_client, world):
    old = f"/admin/volumes/quotausage/?project__id__exact={world.project.pk}"

    response = admin_client.get(old, follow=True)

    assert response.redirect_chain[0][0] == (
        f"/admin/cinder/quotausage/?project__id__exact={world.project.pk}"
    )
    assert response.status_code == 200
    assert admin_client.get("/admin/portal/flowrun/", follow=True).status_code == 200


def test_the_project_quota_page_needs_quota_permissions(world):
    """A superuser has every permission; anyone else (even staff) is refused the page."""
    client = Client()
    client.force_login(make_user(f"staff-{world.project.pk[:8]}", is_staff=True))
    url = f"/admin/cinder/quotalimit/project/{world.project.pk}/"

    assert client.get(url).status_code in (302, 403)
    assert client.post(url, {"limit-volumes": "999"}).status_code in (302, 403)
    assert not QuotaLimit.objects.filter(project=world.project).exists()
