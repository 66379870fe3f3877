"""Hostile parameters and bodies: clear 4xx answers, never a 500; paging reads one page."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core.cinder.models import Token, Volume, VolumeType
from tests.api.conftest import footprint
from tests.api.test_errors_and_negative import fault
from tests.api.test_versions_and_keystone import password_body
from tests.conftest import PASSWORD


@pytest.mark.parametrize(
    "query, code",
    [
        ("limit=²", 400),
        ("limit=٣", 400),  # int() reads Arabic-Indic digits; Cinder's API does not
        ("limit=1_0", 400),
        ("limit= 5", 400),
        ("limit=-1", 400),
        ("offset=¹", 400),
        ("offset=99999999999999999999999", 400),
        ("marker=²", 404),
        ("marker=" + "f" * 40, 404),
        ("size=²", 200),  # filters of volumes only: no match, not an error
    ],
)
def test_number_parameters_take_ascii_digits_only(owner_api, query, code):
    paths = ["/volumes", "/volumes/detail"]
    if not query.startswith("size"):
        paths.append("/snapshots")
    for path in paths:
        response = owner_api.get(f"{path}?{query}")
        assert response.status_code == code, (path, query, response.content)
        assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("query", ["name=a%00b", "status=%00", "name~=%00", "sort=na%00me"])
def test_a_nul_character_in_a_parameter_is_400_not_a_database_error(owner_api, query):
    """PostgreSQL refuses NUL in text; SQLite does not: the answer must not depend on it."""
    response = owner_api.get(f"/volumes/detail?{query}")
    assert "NUL characters" in fault(response, "badRequest", 400)


def test_a_body_over_the_limit_is_413_json_and_writes_nothing(owner_api, world, settings):
    before = footprint(world.project)
    huge = {"volume": {"size": 1, "description": "x" * (settings.API_MAX_REQUEST_BODY + 1)}}

    response = owner_api.post("/volumes", huge)

    assert fault(response, "overLimit", 413) == "Request is too large."
    assert footprint(world.project) == before


def test_a_body_over_djangos_own_cap_is_413_too(owner_api, settings):
    settings.API_MAX_REQUEST_BODY = 10 * 1024 * 1024  # Django's 2.5 MB cap is met first
    body = {"volume": {"size": 1, "description": "x" * (3 * 1024 * 1024)}}
    assert fault(owner_api.post("/volumes", body), "overLimit", 413)


def test_the_token_endpoint_refuses_a_huge_body_with_keystones_json(world, settings):
    body = password_body(world.owner.username, PASSWORD, world.project.name)
    body["padding"] = "x" * settings.API_MAX_REQUEST_BODY
    response = Client().post("/identity/v3/auth/tokens", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == 413
    assert not Token.objects.filter(user=world.owner).exists()


def test_deeply_nested_json_is_400_at_the_token_endpoint(live_db):
    body = "[" * 50000 + "]" * 50000
    response = Client().post("/identity/v3/auth/tokens", body, content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize(
    "metadata, code",
    [
        ({f"k{i}": "v" for i in range(128)}, 202),
        ({f"k{i}": "v" for i in range(129)}, 400),
        ({"k" * 256: "v"}, 400),
        ({"k": "v" * 256}, 400),
        ({"": "v"}, 400),
    ],
)
def test_metadata_is_limited_in_count_and_length(owner_api, world, metadata, code):
    before = footprint(world.project)
    response = owner_api.post("/volumes", {"volume": {"size": 1, "metadata": metadata}})
    assert response.status_code == code, response.content
    if code == 400:
        assert footprint(world.project) == before


@pytest.fixture
def many_volumes(world) -> list[Volume]:
    vtype, _ = VolumeType.objects.get_or_create(name="__DEFAULT__")
    return [
        Volume.objects.create(
            project=world.project,
            user=world.owner,
            size=1 + i % 3,  # ties, so the marker must break them by id
            display_name=f"v{i % 4}",
            volume_type=vtype,
            status="available",
        )
        for i in range(23)
    ]


def walk(api, path: str) -> list[str]:
    """Every id, following next links page by page."""
    ids, url = [], path
    while url:
        page = api.get(url).json()
        ids += [v["id"] for v in page["volumes"]]
        links = page.get("volumes_links", [])
        url = links[0]["href"].split("/v3", 1)[1] if links else None
    return ids


@pytest.mark.parametrize(
    "sort", ["size:asc", "size:desc,name:asc", "name:desc", "created_at:asc", "id:asc"]
)
def test_paging_with_markers_visits_every_volume_once_in_order(owner_api, many_volumes, sort):
    everything = [v["id"] for v in owner_api.get(f"/volumes?sort={sort}").json()["volumes"]]
    assert len(everything) == len(many_volumes)

    assert walk(owner_api, f"/volumes?sort={sort}&limit=5") == everything
    offset = owner_api.get(f"/volumes?sort={sort}&limit=5&offset=3").json()["volumes"]
    assert [v["id"] for v in offset] == everything[3:8]


def test_a_full_page_has_a_next_link_even_when_nothing_follows(owner_api, many_volumes):
    """Cinder's rule: a page as long as the limit links onward; the page after is empty."""
    full = owner_api.get(f"/volumes?limit={len(many_volumes)}").json()
    short = owner_api.get(f"/volumes?limit={len(many_volumes) + 1}").json()

    after = owner_api.get(full["volumes_links"][0]["href"].split("/v3", 1)[1]).json()

    assert len(full["volumes"]) == len(many_volumes)
    assert full["volumes_links"][0]["rel"] == "next"
    assert after == {"volumes": []}
    assert "volumes_links" not in short


def test_a_page_reads_only_a_page_of_rows(owner_api, many_volumes):
    first = owner_api.get("/volumes?limit=5").json()["volumes"]
    with CaptureQueriesContext(connection) as queries:
        owner_api.get(f"/volumes?limit=5&marker={first[-1]['id']}")
    volume_reads = [
        q["sql"]
        for q in queries.captured_queries
        if 'FROM "volumes_volume"' in q["sql"] and "COUNT(" not in q["sql"]
    ]
    assert volume_reads and all(" LIMIT " in sql for sql in volume_reads), volume_reads
