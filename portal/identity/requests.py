"""Reading a POST /v3/auth/tokens body: who is asking, with what proof, for which project."""

from dataclasses import dataclass

import jsonschema
from django.contrib.auth import authenticate as django_authenticate
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in

from core.cinder import tokens
from core.cinder.models import Project
from core.kernel.numbers import ascii_int

_NAMED = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "maxLength": 255},
        "name": {"type": "string", "maxLength": 255},
    },
}
_DOMAIN_REF = {"type": "object", "properties": _NAMED["properties"]}
AUTH_SCHEMA = {
    "type": "object",
    "required": ["auth"],
    "properties": {
        "auth": {
            "type": "object",
            "required": ["identity"],
            "properties": {
                "identity": {
                    "type": "object",
                    "required": ["methods"],
                    "properties": {
                        "methods": {
                            "type": "array",
                            "items": {"enum": ["password", "token"]},
                            "minItems": 1,
                            "maxItems": 2,
                            "uniqueItems": True,
                        },
                        "password": {
                            "type": "object",
                            "required": ["user"],
                            "properties": {
                                "user": {
                                    "type": "object",
                                    "required": ["password"],
                                    "properties": {
                                        "id": {"type": "string", "maxLength": 255},
                                        "name": {"type": "string", "maxLength": 255},
                                        "password": {"type": "string", "maxLength": 4096},
                                        "domain": _DOMAIN_REF,
                                    },
                                }
                            },
                        },
                        "token": {
                            "type": "object",
                            "required": ["id"],
                            "properties": {"id": {"type": "string", "maxLength": 1024}},
                        },
                    },
                },
                "scope": {
                    "anyOf": [
                        {"type": "string"},  # "unscoped"
                        {
                            "type": "object",
                            "properties": {
                                "project": {
                                    "type": "object",
                                    "properties": {
                                        **_NAMED["properties"],
                                        "domain": _DOMAIN_REF,
                                    },
                                },
                            },
                        },
                    ]
                },
            },
        }
    },
}


class BadAuthRequest(Exception):
    """400: the body is not a Keystone auth request."""


class AuthFailed(Exception):
    """401: wrong user, password, token, domain or project (never says which)."""


def parse_auth(body) -> dict:
    try:
        jsonschema.Draft4Validator(AUTH_SCHEMA).validate(body)
    except jsonschema.ValidationError as error:
        path = ".".join(str(p) for p in error.absolute_path) or "body"
        raise BadAuthRequest(f"Invalid input for field '{path}': {error.message}") from None
    return body["auth"]


def _in_default_domain(ref: dict | None) -> bool:
    if not ref:
        return True
    return ref.get("id", "default") == "default" and ref.get("name", "Default") == "Default"


@dataclass
class Authenticated:
    user: object
    methods: list[str]
    parent: tokens.Token | None = None  # the token this one is issued from


def authenticate(request, auth: dict) -> Authenticated:
    identity = auth["identity"]
    methods = identity["methods"]
    if "password" in methods and "password" in identity:
        return Authenticated(_password_user(request, identity["password"]["user"]), ["password"])
    if "token" in methods and "token" in identity:
        token = tokens.validate(identity["token"]["id"])
        if token is None:
            raise AuthFailed
        return Authenticated(token.user, ["token"], parent=token)
    raise AuthFailed


def _password_user(request, ref: dict):
    """Django's authenticate, so failures are counted and throttled (django-axes) and an
    unknown user costs the same password hashing as a known one."""
    if not _in_default_domain(ref.get("domain")):
        raise AuthFailed
    username = ref.get("name")
    if ref.get("id"):
        by_id = ascii_int(ref["id"])
        found = get_user_model().objects.filter(pk=by_id).first() if by_id is not None else None
        username = found.get_username() if found else f"no such user id {ref['id']}"
    user = django_authenticate(request, username=username or "", password=ref["password"])
    if user is None:
        raise AuthFailed
    # A login as far as the throttle is concerned: it clears the failure count.
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    return user


def scope_project(auth: dict, user) -> Project | None:
    scope = auth.get("scope")
    if not isinstance(scope, dict) or "project" not in scope:
        return None  # unscoped token: no catalog, no roles
    ref = scope["project"]
    if not _in_default_domain(ref.get("domain")):
        raise AuthFailed
    if ref.get("id"):
        project = Project.objects.filter(pk=ref["id"]).first()
    elif ref.get("name"):
        project = Project.objects.filter(name=ref["name"]).first()
    else:
        project = None
    if project is None or not tokens.roles_for(user, project):
        raise AuthFailed
    return project
