"""The create form in a browser: a snapshot's "Create volume" link gives a form that submits
as it is; going back to "No source" throws nothing and lowers the minimum again; the demo
image is a source; the chosen type is described beside the choice."""

import re

import pytest

from core.cinder.models import Image, Volume
from portal.management.commands.seed_demo import DEMO_IMAGE
from tests.integration.agent_support import context, create, wait_available, wait_snapshot
from volumes import api

pytestmark = [pytest.mark.browser, pytest.mark.integration]
VOLUME_PAGE = re.compile(r"/volumes/[0-9a-f-]{36}/$")


def page_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    return errors


def made_volume(page) -> Volume:
    page.wait_for_url(VOLUME_PAGE)
    return wait_available(page.url.rstrip("/").rsplit("/", 1)[1])


def test_a_snapshots_link_fills_the_form_and_no_source_resets_it(world, cloud, server, login):
    source = wait_available(create(world, size=2, name="two-gib").id)
    snapshot = wait_snapshot(api.create_snapshot(context(world), source.id, name="two-snap").id)
    assert snapshot.status == "available"
    page = login(world.owner)
    errors = page_errors(page)

    page.goto(f"{server}/volumes/{source.id}/")
    page.click(f"#snapshot-{snapshot.id} a:has-text('Create volume')")
    page.wait_for_url(f"{server}/volumes/create/?snapshot_id={snapshot.id}")
    assert page.input_value("[name=size]") == "2"
    assert page.input_value("[name=snapshot_source]") == str(snapshot.id)
    page.click("#create-submit")
    from_snapshot = made_volume(page)
    assert (from_snapshot.size, from_snapshot.snapshot_id) == (2, snapshot.id)

    page.goto(f"{server}/volumes/create/?snapshot_id={snapshot.id}")
    page.select_option("[name=volume_source_type]", "")
    assert page.get_attribute("[name=size]", "min") == "1"
    assert page.is_hidden("#field-snapshot_source")
    page.fill("[name=size]", "1")
    page.click("#create-submit")
    empty = made_volume(page)
    assert (empty.size, empty.snapshot_id) == (1, None)
    assert errors == []


def test_the_demo_image_is_a_source_a_volume_is_made_from(world, cloud, server, login):
    image = Image.objects.get(name=DEMO_IMAGE)
    page = login(world.owner)
    errors = page_errors(page)
    page.goto(f"{server}/volumes/create/")

    page.select_option("[name=volume_source_type]", "image_source")
    assert page.is_visible("#field-image_source")
    page.select_option("[name=image_source]", str(image.id))  # other tests publish images too
    assert page.input_value("[name=size]") == "1"
    page.click("#create-submit")

    volume = made_volume(page)
    assert volume.image_id == image.id
    assert errors == []


def test_the_chosen_type_is_described_beside_the_choice(world, server, login):
    page = login(world.member)
    errors = page_errors(page)
    page.goto(f"{server}/volumes/create/")
    assert page.is_visible('[data-type-info="__DEFAULT__"]')

    page.select_option("[name=volume_type]", "gold")

    assert page.is_visible('[data-type-info="gold"]')
    assert page.is_hidden('[data-type-info="__DEFAULT__"]')
    assert "Gold tier" in page.inner_text('[data-type-info="gold"]')
    assert errors == []
