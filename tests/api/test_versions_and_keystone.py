"""Version discovery, microversion negotiation, and the Keystone subset."""

import pytest
from django.test import Client

from core.cinder.models import Token
from tests.api.conftest import Api
from tests.conftest import PASSWORD


def test_root_gives_api_clients_a_300_version_document(live_db):
    response = Client().get("/", headers={"Accept": "application/json"})
    assert response.status_code == 300
    (version,) = response.json()["versions"]
    assert version["id"] == "v3.0"
    assert (version["min_version"], version["version"]) == ("3.0", "3.71")
    assert {"rel": "self", "href": "http://testserver/v3/"} in version["links"]


def test_root_still_gives_browsers_the_dashboard(live_db):
    response = Client().get("/", headers={"Accept": "text/html,application/xhtml+xml"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("path", ["/v3", "/v3/"])
def test_v3_answers_200_with_the_same_document(live_db, path):
    response = Client().get(path, headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.json()["versions"][0]["version"] == "3.71"


@pytest.mark.parametrize(
    "header, code, echoed",
    [
        (None, 200, "volume 3.0"),
        ("volume 3.67", 200, "volume 3.67"),
        ("volume latest", 200, "volume 3.71"),
        ("compute 2.1, volume 3.50", 200, "volume 3.50"),
        ("volume 3.72", 406, "volume 3.0"),
        ("volume 2.0", 406, "volume 3.0"),
        ("volume 3.x", 400, "volume 3.0"),
        ("compute 2.1", 400, "volume 3.0"),
    ],
)
def test_the_microversion_header_is_read_and_echoed_with_vary(world, header, code, echoed):
    from tests.api.conftest import token_for

    api = Api(
        token_for(world.owner, world.project), version=header, prefix=f"/v3/{world.project.pk}"
    )
    response = api.get("/volumes")
    assert response.status_code == code
    assert response["OpenStack-API-Version"] == echoed
    assert response["Vary"] == "OpenStack-API-Version"
    if code == 406:
        assert "computeFault" in response.json()


def test_project_less_urls_answer_at_every_version_as_cinders_router_does(world):
    from tests.api.conftest import token_for

    for version in ("volume 3.0", "volume 3.66", "volume 3.67"):
        api = Api(token_for(world.owner, world.project), version=version)
        assert api.get("/volumes").status_code == 200


def password_body(username, password, project=None):
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": username, "domain": {"name": "Default"}, "password": password}
                },
            }
        }
    }
    if project:
        body["auth"]["scope"] = {"project": {"name": project, "domain": {"name": "Default"}}}
    return body


def test_keystone_password_auth_issues_a_hashed_token_with_a_catalog(world):
    client = Client()
    response = client.post(
        "/identity/v3/auth/tokens",
        password_body(world.owner.username, PASSWORD, world.project.name),
        content_type="application/json",
    )
    assert response.status_code == 201
    raw = response["X-Subject-Token"]
    token = response.json()["token"]
    assert token["project"]["id"] == world.project.pk
    assert [r["name"] for r in token["roles"]] == ["member", "reader"]
    urls = {e["type"]: e["endpoints"][0]["url"] for e in token["catalog"]}
    assert urls["block-storage"] == f"http://testserver/v3/{world.project.pk}"
    assert urls["volumev3"] == urls["block-storage"]
    assert not Token.objects.filter(digest=raw).exists()  # only the digest is kept

    headers = {"X-Auth-Token": raw, "X-Subject-Token": raw}
    assert client.get("/identity/v3/auth/tokens", headers=headers).status_code == 200
    assert client.delete("/identity/v3/auth/tokens", headers=headers).status_code == 204
    assert client.get("/identity/v3/auth/tokens", headers=headers).status_code == 401
    assert Api(raw).get("/volumes").status_code == 401


@pytest.mark.parametrize("who", ["wrong-password", "unknown-user", "other-project", "other-domain"])
def test_keystone_refuses_bad_credentials_with_401(world, who):
    body = password_body(world.owner.username, PASSWORD, world.project.name)
    user = body["auth"]["identity"]["password"]["user"]
    if who == "wrong-password":
        user["password"] = "nope"
    elif who == "unknown-user":
        user["name"] = "nobody-here"
    elif who == "other-project":
        body["auth"]["scope"]["project"]["name"] = world.outsider.projects.first().name
    else:
        user["domain"] = {"name": "Elsewhere"}
    response = Client().post("/identity/v3/auth/tokens", body, content_type="application/json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == 401
    assert not Token.objects.filter(user=world.owner).exists()


def test_keystone_refuses_malformed_bodies_with_400(live_db):
    for body in [{}, {"auth": {}}, {"auth": {"identity": {"methods": "password"}}}]:
        response = Client().post("/identity/v3/auth/tokens", body, content_type="application/json")
        assert response.status_code == 400


def test_identity_discovery_lists_v3_and_describes_itself(live_db):
    listing = Client().get("/identity/", headers={"Accept": "application/json"})
    assert listing.status_code == 300
    (version,) = listing.json()["versions"]["values"]
    assert version["id"].startswith("v3.")
    assert {"rel": "self", "href": "http://testserver/identity/v3/"} in version["links"]
    itself = Client().get("/identity/v3")
    assert itself.status_code == 200 and itself.json()["version"]["status"] == "stable"
