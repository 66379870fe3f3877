"""The what-if and pools pages: members look, admins disable and enable backends."""

import json
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.cinder.models import Volume
from core.kernel.models import Service
from scheduler.models import DecisionTrace, Pool
from tests.conftest import make_user
from tests.scheduler_integration.support import backend, lvm_caps, remove


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def ghosts(live_db, settings):
    """Three backends in a zone of their own: big (up), bigger (disabled), biggest (down)."""
    tag = uuid.uuid4().hex[:6]
    zone = f"wz-{tag}"
    hosts = {k: f"{k}-{tag}@lvm" for k in ("big", "bigger", "biggest")}
    pools = {
        "big": backend(hosts["big"], lvm_caps(1000, 900), zone=zone),
        "bigger": backend(
            hosts["bigger"], lvm_caps(2000, 1900), zone=zone, disabled_reason="disk swap"
        ),
        "biggest": backend(
            hosts["biggest"],
            lvm_caps(4000, 3900),
            zone=zone,
            heartbeat_age=settings.SERVICE_DOWN_TIME + 100,
        ),
    }
    yield zone, hosts, pools
    remove(*hosts.values())


def what_if(client, zone, size=10, volume_type="__DEFAULT__"):
    return client.get(
        reverse("scheduler:what-if"),
        {"volume_type": volume_type, "size": size, "availability_zone": zone},
    )


def test_a_member_sees_where_a_volume_would_go_and_why_the_others_are_out(world, ghosts):
    zone, hosts, pools = ghosts
    started = timezone.now()
    caps_before = Pool.objects.get(name=pools["big"]).capabilities

    response = what_if(client_for(world.member), zone)

    assert response.status_code == 200
    page = response.content.decode()
    assert f"data-whatif-chosen>{pools['big']}<" in page
    assert "excluded: backend disabled: disk swap" in page
    assert "excluded: backend down: last heartbeat" in page
    # Nothing was created or consumed (other scheduling may go on in the background).
    recent = DecisionTrace.objects.filter(created_at__gte=started)
    assert not [t for t in recent if zone in json.dumps(t.request)]
    assert not Volume.objects.filter(availability_zone=zone).exists()
    assert Pool.objects.get(name=pools["big"]).capabilities == caps_before


def test_what_if_says_why_nothing_fits(world, ghosts):
    zone, _, _ = ghosts

    page = what_if(client_for(world.member), zone, size=5000).content.decode()

    assert "No valid backend" in page
    assert "needs 5000 GiB" in page


def test_a_bad_size_shows_the_form_error_and_no_decision(world, ghosts):
    zone, _, _ = ghosts

    page = what_if(client_for(world.member), zone, size=0).content.decode()

    assert "Ensure this value is greater than or equal to 1" in page
    assert "whatif-result" not in page


def test_someone_in_no_project_may_not_see_the_fleet(live_db):
    loner = make_user(f"loner-{uuid.uuid4().hex[:6]}")
    client = client_for(loner)

    assert client.get(reverse("scheduler:what-if")).status_code == 403
    assert client.get(reverse("scheduler:pools")).status_code == 403


def test_the_pools_page_shows_each_pools_state_read_only_for_members(world, ghosts):
    zone, hosts, pools = ghosts

    page = client_for(world.member).get(reverse("scheduler:pools"), {"q": zone}).content.decode()

    assert f'data-pool="{pools["big"]}" data-status="up"' in page
    assert f'data-pool="{pools["bigger"]}" data-status="disabled"' in page
    assert "disk swap" in page
    assert f'data-pool="{pools["biggest"]}" data-status="down"' in page
    assert "total 1000 · free 900" in page
    assert "data-disable=" not in page and "data-enable=" not in page


def test_a_member_cannot_disable_a_backend(world, ghosts):
    _, hosts, _ = ghosts

    response = client_for(world.member).post(
        reverse("scheduler:disable", args=[hosts["big"]]), {"reason": "mine now"}
    )

    assert response.status_code == 403
    assert not Service.objects.get(host=hosts["big"]).disabled


def test_an_admin_disables_a_backend_with_a_reason_and_enables_it_again(live_db, ghosts):
    _, hosts, _ = ghosts
    admin = make_user(f"adm-{uuid.uuid4().hex[:6]}", is_superuser=True)
    client = client_for(admin)

    page = client.get(reverse("scheduler:pools"), {"q": hosts["big"]}).content.decode()
    assert f'data-disable="{hosts["big"]}"' in page
    client.post(reverse("scheduler:disable", args=[hosts["big"]]), {"reason": "  rack move "})
    service = Service.objects.get(host=hosts["big"])
    assert service.disabled and service.disabled_reason == "rack move"

    client.post(reverse("scheduler:enable", args=[hosts["big"]]))
    service.refresh_from_db()
    assert not service.disabled and service.disabled_reason == ""


def test_disabling_without_a_reason_changes_nothing_and_says_why(live_db, ghosts):
    _, hosts, _ = ghosts
    admin = make_user(f"adm-{uuid.uuid4().hex[:6]}", is_superuser=True)

    response = client_for(admin).post(
        reverse("scheduler:disable", args=[hosts["big"]]), {"reason": "  "}, follow=True
    )

    assert "the reason is shown in every trace" in response.content.decode()
    assert not Service.objects.get(host=hosts["big"]).disabled


def test_what_if_shows_members_only_the_extra_specs_the_api_shows_them(world, ghosts):
    from core.cinder.models import VolumeType, VolumeTypeExtraSpec

    zone, _, _ = ghosts
    vtype = VolumeType.objects.create(name=f"specs-{uuid.uuid4().hex[:6]}")
    VolumeTypeExtraSpec.objects.create(volume_type=vtype, key="volume_backend_name", value="x9")
    VolumeTypeExtraSpec.objects.create(volume_type=vtype, key="multiattach", value="<is> False")
    admin = make_user(f"admin-{vtype.name}", is_superuser=True, is_staff=True)

    def type_line(user) -> str:
        page = what_if(client_for(user), zone, volume_type=vtype.name).content.decode()
        start = page.index('<p class="muted">Type ')
        return page[start : page.index("</p>", start)]

    member_sees, admin_sees = type_line(world.member), type_line(admin)

    assert "multiattach=&lt;is&gt; False" in member_sees
    assert "volume_backend_name" not in member_sees
    assert "volume_backend_name=x9" in admin_sees
