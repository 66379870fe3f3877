"""Over quota from the create form: a clear error, nothing written; the bars fragment."""

import pytest
from django.test import Client

from core.cinder.models import Reservation, Volume
from core.kernel.models import FlowRun
from tests.quota.helpers import limit, usage
from volumes import api

pytestmark = pytest.mark.integration


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form(**overrides) -> dict:
    return {
        "name": "too-big",
        "description": "",
        "size": "1",
        "volume_type": "__DEFAULT__",
        "availability_zone": "nova",
    } | overrides


def test_over_quota_in_the_form_names_resource_limit_usage_and_request(world):
    limit(world.project, "gigabytes", 10)
    kept = api.create(api.request_context(world.owner, world.project), size=6)

    response = client_for(world.owner).post("/volumes/create/", form(size="5"))

    assert response.status_code == 200
    text = response.content.decode()
    assert "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed " in text
    assert "(gigabytes: limit 10 GiB, 6 GiB in use, 0 GiB reserved, 5 GiB requested)" in text
    assert not Volume.objects.filter(project=world.project, display_name="too-big").exists()
    assert not Reservation.objects.filter(project=world.project).exists()
    assert usage(world.project, "gigabytes") == (6, 0)
    # Flow records only of the kept volume (its scheduler run may appear meanwhile).
    recorded = FlowRun.objects.filter(project_id=world.project.pk).values_list(
        "volume_id", flat=True
    )
    assert set(recorded) == {kept.id}


def test_the_volume_limit_error_in_the_form_says_how_many_are_in_use(world):
    limit(world.project, "volumes", 0)

    response = client_for(world.member).post("/volumes/create/", form())

    text = response.content.decode()
    assert "VolumeLimitExceeded: Maximum number of volumes allowed (0) exceeded" in text
    assert "(volumes: limit 0, 0 in use, 0 reserved, 1 requested)" in text
    assert not Volume.objects.filter(project=world.project).exists()


def test_the_create_page_shows_bars_for_volumes_gigabytes_and_a_limited_type(world):
    limit(world.project, "gigabytes_thin", 50)

    text = client_for(world.owner).get("/volumes/create/").content.decode()

    assert 'id="quota-bars"' in text
    assert 'data-resource="volumes"' in text and 'data-resource="gigabytes"' in text
    assert 'data-resource="gigabytes_thin"' in text
    assert 'data-resource="volumes_thin"' not in text  # unlimited per-type: no bar
    assert f'ws-connect="/ws/quota/{world.project.pk}/"' in text


def test_the_bars_fragment_draws_in_use_reserved_and_the_request(world):
    limit(world.project, "gigabytes", 10)
    api.create(api.request_context(world.owner, world.project), size=4)

    response = client_for(world.owner).get("/volumes/create/quota-bars/?size=5")

    text = response.content.decode()
    assert response.status_code == 200
    assert text.lstrip().startswith('<div id="quota-bars"')
    gigabytes = text[text.index('data-resource="gigabytes"') :]
    assert 'data-limit="10" data-in-use="4" data-reserved="0" data-state="warning"' in gigabytes
    assert "width:40.0%" in gigabytes and "width:50.0%" in gigabytes


def test_an_outsider_sees_only_their_own_projects_bars(world):
    limit(world.project, "volumes", 3)

    text = client_for(world.outsider).get("/volumes/create/quota-bars/").content.decode()

    assert 'data-resource="volumes" data-kind="volumes" data-volume-type=""\n' in text
    assert 'data-limit="3"' not in text
