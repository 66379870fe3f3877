"""Reading a POST /v3/auth/tokens body: who is asking, with what proof, for which project."""

import jsonschema
from django.contrib.auth import get_user_model

from core.cinder import tokens
from core.cinder.models import Project

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
                            "items": {"type": "string"},
                            "minItems": 1,
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


def authenticate(auth: dict) -> tuple[object, list[str]]:
    identity = auth["identity"]
    methods = identity["methods"]
    if "password" in methods and "password" in identity:
        return _password_user(identity["password"]["user"]), methods
    if "token" in methods and "token" in identity:
        token = tokens.validate(identity["token"]["id"])
        if token is None:
            raise AuthFailed
        return token.user, methods
    raise AuthFailed


def _password_user(ref: dict):
    if not _in_default_domain(ref.get("domain")):
        raise AuthFailed
    users = get_user_model().objects.filter(is_active=True)
    if ref.get("id"):
        user = users.filter(pk=ref["id"]).first() if ref["id"].isdigit() else None
    elif ref.get("name"):
        user = users.filter(username=ref["name"]).first()
    else:
        user = None
    if user is None or not user.check_password(ref["password"]):
        raise AuthFailed
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
