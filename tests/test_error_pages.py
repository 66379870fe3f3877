"""Styled 404 and 500 pages for the web pages; the API's unknown paths stay JSON; a deleted
volume's links keep working."""

import re
import uuid

from django.test import Client, RequestFactory
from django.views.defaults import server_error

from core.cinder.models import Volume, VolumeType
from volumes import api


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_unknown_page_is_the_sites_own_404_with_its_navigation(world):
    for path in ("/no-such-page/", f"/volumes/{uuid.uuid4()}/"):
        answer = client_for(world.member).get(path)

        assert answer.status_code == 404
        page = answer.content.decode()
        assert 'id="not-found"' in page and 'id="main-nav"' in page, path


def test_unknown_api_and_identity_paths_stay_json(world):
    client = client_for(world.member)  # a session is no token: the API answers 401, in JSON
    for path, status in (("/v3/no-such-thing", 401), ("/identity/v3/no-such-thing", 404)):
        answer = client.get(path)

        assert answer.status_code == status, path
        assert answer["Content-Type"].startswith("application/json"), path
        assert "<html" not in answer.content.decode()


def test_a_server_error_is_the_sites_own_500_page():
    answer = server_error(RequestFactory().get("/volumes/"))

    assert answer.status_code == 500
    page = answer.content.decode()
    assert 'id="server-error"' in page and "cinderlab.css" in page


def test_a_deleted_volumes_page_and_the_links_to_it_keep_working(world):
    volume = Volume.objects.create(
        project=world.project,
        user=world.owner,
        size=1,
        status="error",  # never scheduled: deleted at once, as Cinder does
        volume_type=VolumeType.default(),
    )
    api.delete(api.request_context(world.owner, world.project), volume.id)
    assert Volume.all_objects.get(id=volume.id).deleted
    client = client_for(world.owner)

    dashboard = client.get("/", headers={"accept": "text/html"}).content.decode()
    links = set(re.findall(rf'href="(/volumes/{volume.id}/)"', dashboard))
    assert links  # its events on the dashboard name it

    for link in links:
        page = client.get(link)
        assert page.status_code == 200
        assert 'data-volume-status="deleted"' in page.content.decode()
