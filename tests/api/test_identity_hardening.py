"""Keystone's token rules and the brute-force guard on both ways in (API and login page)."""

from datetime import timedelta

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client, override_settings
from django.utils import timezone

from core.cinder.models import Membership, Token
from tests.api.conftest import Api
from tests.api.test_versions_and_keystone import password_body
from tests.conftest import PASSWORD

TOKENS = "/identity/v3/auth/tokens"


def post_auth(body, client=None):
    return (client or Client()).post(TOKENS, body, content_type="application/json")


def token_body(raw, project=None):
    body = {"auth": {"identity": {"methods": ["token"], "token": {"id": raw}}}}
    if project:
        body["auth"]["scope"] = {"project": {"name": project, "domain": {"name": "Default"}}}
    return body


def password_token(world) -> str:
    response = post_auth(password_body(world.owner.username, PASSWORD, world.project.name))
    assert response.status_code == 201
    return response["X-Subject-Token"]


# --- throttling ---------------------------------------------------------------------------


@override_settings(AXES_FAILURE_LIMIT=3)
def test_the_token_endpoint_locks_a_user_out_after_repeated_failures(world):
    wrong = password_body(world.owner.username, "not-the-password", world.project.name)
    for _ in range(3):
        assert post_auth(wrong).status_code == 401
    locked = post_auth(password_body(world.owner.username, PASSWORD, world.project.name))
    assert locked.status_code == 401
    assert "Too many failed attempts" in locked.json()["error"]["message"]
    assert not Token.objects.filter(user=world.owner).exists()
    # Other users from the same address are not affected.
    member = post_auth(password_body(world.member.username, PASSWORD, world.project.name))
    assert member.status_code == 201


@override_settings(AXES_FAILURE_LIMIT=3)
def test_the_login_page_locks_out_with_a_message_not_a_bare_403(world):
    client = Client()
    statuses = [
        client.post("/accounts/login/", {"username": world.owner.username, "password": "wrong"})
        for _ in range(3)
    ]
    assert [page.status_code for page in statuses] == [200, 200, 429]  # the third failure locks
    locked = client.post(
        "/accounts/login/", {"username": world.owner.username, "password": PASSWORD}
    )
    assert locked.status_code == 429
    assert b"Too many failed attempts" in locked.content
    assert "_auth_user_id" not in client.session


@override_settings(AXES_FAILURE_LIMIT=3)
def test_a_success_before_the_limit_resets_the_count(world):
    wrong = password_body(world.owner.username, "not-the-password", world.project.name)
    for _ in range(2):
        assert post_auth(wrong).status_code == 401
    password_token(world)
    for _ in range(2):
        assert post_auth(wrong).status_code == 401
    password_token(world)


class CountingHasher(MD5PasswordHasher):
    """The test suite's fast hasher, counting the hashes it computes."""

    algorithm = "md5"
    calls = 0

    def encode(self, password, salt):
        CountingHasher.calls += 1
        return super().encode(password, salt)


@pytest.mark.parametrize("name", ["known", "unknown"])
def test_an_unknown_user_costs_the_same_password_hashing_as_a_known_one(world, name):
    """Answering faster for unknown names would tell an attacker which names exist."""
    username = world.owner.username if name == "known" else "nobody-at-all"
    with override_settings(PASSWORD_HASHERS=[f"{__name__}.CountingHasher"]):
        CountingHasher.calls = 0
        assert post_auth(password_body(username, "wrong", world.project.name)).status_code == 401
        assert CountingHasher.calls == 1


# --- token semantics ----------------------------------------------------------------------


def test_a_token_from_a_token_keeps_the_original_expiry(world):
    first = password_token(world)
    parent = Token.objects.get(user=world.owner)
    Token.objects.filter(pk=parent.pk).update(expires_at=timezone.now() + timedelta(minutes=5))
    response = post_auth(token_body(first, world.project.name))
    assert response.status_code == 201
    assert response.json()["token"]["methods"] == ["token"]
    child = Token.objects.exclude(pk=parent.pk).get(user=world.owner)
    assert child.expires_at == Token.objects.get(pk=parent.pk).expires_at


def test_revoking_a_token_revokes_the_tokens_made_from_it(world):
    first = password_token(world)
    second = post_auth(token_body(first, world.project.name))["X-Subject-Token"]
    third = post_auth(token_body(second, world.project.name))["X-Subject-Token"]
    assert Api(third).get("/volumes").status_code == 200
    headers = {"X-Auth-Token": first, "X-Subject-Token": first}
    assert Client().delete(TOKENS, headers=headers).status_code == 204
    assert Api(second).get("/volumes").status_code == 401
    assert Api(third).get("/volumes").status_code == 401


def test_a_password_change_ends_every_token_of_that_user(world):
    raw = password_token(world)
    assert Api(raw).get("/volumes").status_code == 200
    world.owner.set_password("a-new-long-passphrase")
    world.owner.save()
    assert Api(raw).get("/volumes").status_code == 401


def test_a_token_follows_its_users_membership_and_account_at_once(world):
    raw = password_token(world)
    new_volume = {"volume": {"size": 1, "name": "role-test"}}
    membership = Membership.objects.get(user=world.owner, project=world.project)
    membership.role = "reader"
    membership.save()
    assert Api(raw).post("/volumes", new_volume).status_code == 403  # a reader now
    assert Api(raw).get("/volumes").status_code == 200
    membership.delete()
    assert Api(raw).get("/volumes").status_code == 401  # Keystone revokes on unassignment
    Membership.objects.create(user=world.owner, project=world.project, role="member")
    assert Api(raw).get("/volumes").status_code == 200
    world.owner.is_active = False
    world.owner.save()
    assert Api(raw).get("/volumes").status_code == 401


@pytest.mark.parametrize(
    "methods", [["password", "password"], ["kerberos"], ["password", "token", "totp"], ["x" * 9999]]
)
def test_methods_are_checked_not_stored_as_sent(world, methods):
    body = password_body(world.owner.username, PASSWORD, world.project.name)
    body["auth"]["identity"]["methods"] = methods
    response = post_auth(body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 400
    assert not Token.objects.filter(user=world.owner).exists()


def test_a_token_records_the_method_that_proved_it(world):
    body = password_body(world.owner.username, PASSWORD, world.project.name)
    body["auth"]["identity"]["methods"] = ["token", "password"]
    response = post_auth(body)
    assert response.status_code == 201
    assert response.json()["token"]["methods"] == ["password"]
