"""Keystone v3's discovery and /auth/tokens, enough for keystoneauth's password plugin.

Thin views: parsing lives in :mod:`portal.identity.requests`, tokens in
:mod:`portal.identity.tokens`, JSON shapes in :mod:`portal.identity.documents`.
"""

import json

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from core.cinder import tokens
from core.kernel.bodies import BodyTooLarge, limited_body
from portal.identity import documents, requests


def keystone_error(code: int, title: str, message: str) -> JsonResponse:
    response = JsonResponse(
        {"error": {"code": code, "title": title, "message": message}}, status=code
    )
    if code == 401:
        response["WWW-Authenticate"] = 'Keystone uri="/identity"'
    return response


UNAUTHORIZED = "The request you have made requires authentication."


def unauthorized() -> JsonResponse:
    return keystone_error(401, "Unauthorized", UNAUTHORIZED)


def method_not_allowed(allowed: str) -> JsonResponse:
    response = keystone_error(405, "Method Not Allowed", "The method is not allowed.")
    response["Allow"] = allowed
    return response


READ_ONLY = "GET, HEAD"


@login_not_required
@csrf_exempt
def versions(request: HttpRequest) -> JsonResponse:
    """GET /identity/: the versions list (300, as Keystone)."""
    if request.method not in ("GET", "HEAD"):
        return method_not_allowed(READ_ONLY)
    body = {"versions": {"values": [documents.version(request)]}}
    return JsonResponse(body, status=300)


@login_not_required
@csrf_exempt
def v3_root(request: HttpRequest) -> JsonResponse:
    """GET /identity/v3: this version's document."""
    if request.method not in ("GET", "HEAD"):
        return method_not_allowed(READ_ONLY)
    return JsonResponse({"version": documents.version(request)})


@login_not_required
@csrf_exempt
def auth_tokens(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _issue(request)
    if request.method in ("GET", "HEAD", "DELETE"):
        return _subject(request)
    return method_not_allowed("GET, HEAD, POST, DELETE")


@login_not_required
@csrf_exempt
def not_found(request: HttpRequest) -> JsonResponse:
    """Any other path under /identity: Keystone's JSON 404, never Django's HTML page."""
    return keystone_error(404, "Not Found", "The resource could not be found.")


def _issue(request: HttpRequest) -> HttpResponse:
    try:
        body = json.loads(limited_body(request) or b"null")
    except BodyTooLarge:
        return keystone_error(413, "Request Entity Too Large", BodyTooLarge.message)
    except (ValueError, RecursionError):
        return keystone_error(400, "Bad Request", "Malformed JSON in the request body.")
    try:
        auth = requests.parse_auth(body)
    except requests.BadAuthRequest as error:
        return keystone_error(400, "Bad Request", str(error))
    try:
        who = requests.authenticate(request, auth)
        project = requests.scope_project(auth, who.user)
    except requests.AuthFailed:
        return unauthorized()
    issued = tokens.issue(who.user, project, who.methods, parent=who.parent)
    response = JsonResponse(documents.token_body(request, issued.token), status=201)
    response["X-Subject-Token"] = issued.raw
    return response


def _subject(request: HttpRequest) -> HttpResponse:
    """GET/HEAD validate X-Subject-Token; DELETE revokes it. The caller needs a live token."""
    if tokens.validate(request.headers.get("X-Auth-Token")) is None:
        return unauthorized()
    raw = request.headers.get("X-Subject-Token")
    subject = tokens.validate(raw)
    if subject is None:
        return keystone_error(404, "Not Found", "Could not find token.")
    if request.method == "DELETE":
        tokens.revoke(subject)
        return HttpResponse(status=204)
    nocatalog = "nocatalog" in request.GET
    response = JsonResponse(documents.token_body(request, subject, with_catalog=not nocatalog))
    response["X-Subject-Token"] = raw
    return response
