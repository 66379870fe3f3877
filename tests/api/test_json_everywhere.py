"""Every answer under /v3 and /identity is JSON in Cinder's or Keystone's error shape:
every route with unknown ids and every method, unknown paths, with and without a token.
Never Django's HTML page, never a 500."""

import uuid

import pytest
from django.urls import reverse

from portal.identity import urls as identity_urls
from tests.api.conftest import Api
from volumes.rest import urls as rest_urls
from volumes.rest.faults import FAULT_NAMES

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
UNKNOWN_PATHS = [
    "/v3/no-such-thing",
    "/v3/{project}/no-such-thing",
    "/v3/{project}/volumes/{id}/no/such/thing",
    "/v3/{project}/os-no-such-extension/{id}",
    "/v3/not-a-project-id/volumes",
]
UNKNOWN_IDENTITY_PATHS = ["/identity/v3/users", "/identity/v3/auth/nothing", "/identity/x/y"]


def route_paths(namespace: str, patterns, project_id: str | None) -> list[str]:
    """Each named route of ``patterns`` with a random id in every slot; with a
    ``project_id``, the block storage routes also with the caller's project in the URL."""
    paths = []
    for pattern in patterns:
        if pattern.name in (None, "not-found"):
            continue
        groups = set(pattern.pattern.regex.groupindex)
        optional = {"project_id"} if project_id else set()
        kwargs = {name: str(uuid.uuid4()) for name in groups - optional}
        paths.append(reverse(f"{namespace}:{pattern.name}", kwargs=kwargs))
        if groups & optional:
            kwargs["project_id"] = project_id
            paths.append(reverse(f"{namespace}:{pattern.name}", kwargs=kwargs))
    return paths


def call(api: Api, method: str, path: str):
    # A JSON body that no handler accepts: nothing is created or changed by the sweep.
    raw = b"[]" if method in ("POST", "PUT", "PATCH") else None
    return api.call(method, path, raw=raw)


def cinder_fault(body: dict, status: int) -> None:
    name = FAULT_NAMES[status]
    assert list(body) == [name]
    assert body[name]["code"] == status
    assert isinstance(body[name]["message"], str) and body[name]["message"]


def keystone_error(body: dict, status: int) -> None:
    assert body["error"]["code"] == status
    assert body["error"]["title"] and body["error"]["message"]


def assert_json(response, method: str, path: str, error_shape) -> None:
    """JSON, never a 500; an error (on a method with a body) in ``error_shape``."""
    where = f"{method} {path} -> {response.status_code}"
    assert response.status_code != 500, where
    assert response["Content-Type"] == "application/json", where
    if method != "HEAD" and response.status_code >= 400:
        body = response.json()
        try:
            error_shape(body, response.status_code)
        except AssertionError:
            raise AssertionError(f"{where}: {body}") from None


@pytest.mark.parametrize("who", ["admin", "member", "nobody"])
def test_every_block_storage_route_answers_json_for_unknown_ids_and_any_method(
    who, admin_api, owner_api, world
):
    api = {"admin": admin_api, "member": owner_api, "nobody": Api(None)}[who]
    api.prefix = ""
    paths = route_paths("rest", rest_urls.urlpatterns, world.project.pk)
    paths += [p.format(project=world.project.pk, id=uuid.uuid4()) for p in UNKNOWN_PATHS]
    statuses = set()
    for path in paths:
        for method in METHODS:
            response = call(api, method, path)
            assert_json(response, method, path, cinder_fault)
            statuses.add(response.status_code)
    if who == "nobody":
        assert statuses == {200, 401, 405}  # only the version documents answer without a token
    else:
        assert {400, 404, 405} <= statuses


def test_unknown_block_storage_paths_are_item_not_found(owner_api, world):
    owner_api.prefix = ""
    for path in UNKNOWN_PATHS:
        path = path.format(project=world.project.pk, id=uuid.uuid4())
        response = owner_api.get(path)
        assert response.status_code == 404, path
        assert response.json() == {
            "itemNotFound": {"code": 404, "message": "The resource could not be found."}
        }


def test_a_known_path_with_a_wrong_method_is_bad_method_with_allow(owner_api):
    response = owner_api.call("PATCH", "/volumes")
    assert response.status_code == 405
    assert response.json()["badMethod"]["code"] == 405
    assert response["Allow"] == "GET, POST"
    assert owner_api.call("POST", "/").status_code == 405


@pytest.mark.parametrize("with_token", [True, False])
def test_every_identity_route_answers_keystone_json(with_token, owner_api):
    api = Api(owner_api.token if with_token else None, version=None, prefix="")
    paths = route_paths("identity", identity_urls.urlpatterns, None) + UNKNOWN_IDENTITY_PATHS
    for path in paths:
        for method in METHODS:
            assert_json(call(api, method, path), method, path, keystone_error)
    response = api.get("/identity/v3/users")
    assert response.status_code == 404
    assert response.json()["error"]["title"] == "Not Found"
    assert api.call("PUT", "/identity/v3").status_code == 405
