"""Keystone's /v3/domains (the one Default domain) and /v3/projects (create, show, list,
delete) for the cloud admin: what suites need to make a throwaway project."""

import json

import jsonschema
from django.contrib.auth.decorators import login_not_required
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from core.cinder import tokens
from core.cinder.models import Project
from core.kernel.bodies import BodyTooLarge, limited_body
from portal.identity.documents import base_url
from portal.identity.views import keystone_error, method_not_allowed, unauthorized

PROJECT_CREATE = {
    "type": "object",
    "required": ["project"],
    "properties": {
        "project": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 64},
                "description": {"type": ["string", "null"], "maxLength": 65535},
                "domain_id": {"type": ["string", "null"], "maxLength": 64},
                "enabled": {"type": "boolean"},
                "is_domain": {"type": "boolean"},
                "parent_id": {"type": ["string", "null"], "maxLength": 64},
                "tags": {"type": "array"},
            },
        }
    },
}


def _admin(request: HttpRequest) -> HttpResponse | None:
    """None for the cloud admin's token; else Keystone's 401 or 403."""
    token = tokens.validate(request.headers.get("X-Auth-Token"))
    if token is None:
        return unauthorized()
    if not token.user.is_superuser:
        return keystone_error(
            403, "Forbidden", "You are not authorized to perform the requested action."
        )
    return None


def _domain(request: HttpRequest) -> dict:
    return {
        **tokens.DOMAIN,
        "description": "The default domain",
        "enabled": True,
        "links": {"self": f"{base_url(request)}/identity/v3/domains/{tokens.DOMAIN['id']}"},
        "tags": [],
    }


def _project(request: HttpRequest, project: Project) -> dict:
    return {
        "id": project.pk,
        "name": project.name,
        "description": project.description,
        "domain_id": tokens.DOMAIN["id"],
        "enabled": True,
        "is_domain": False,
        "parent_id": tokens.DOMAIN["id"],
        "tags": [],
        "links": {"self": f"{base_url(request)}/identity/v3/projects/{project.pk}"},
    }


@login_not_required
@csrf_exempt
def domains(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return method_not_allowed("GET, HEAD")
    refused = _admin(request)
    if refused:
        return refused
    name = request.GET.get("name")
    found = [] if name not in (None, tokens.DOMAIN["name"]) else [_domain(request)]
    return JsonResponse({"domains": found, "links": {"self": request.build_absolute_uri()}})


@login_not_required
@csrf_exempt
def projects(request: HttpRequest) -> HttpResponse:
    """GET lists (``?name=`` filters), POST creates."""
    if request.method not in ("GET", "HEAD", "POST"):
        return method_not_allowed("GET, HEAD, POST")
    refused = _admin(request)
    if refused:
        return refused
    if request.method == "POST":
        return _create(request)
    rows = Project.objects.order_by("name")
    if "name" in request.GET:
        rows = rows.filter(name=request.GET["name"])
    body = {"projects": [_project(request, p) for p in rows]}
    body["links"] = {"self": request.build_absolute_uri()}
    return JsonResponse(body)


def _create(request: HttpRequest) -> HttpResponse:
    try:
        body = json.loads(limited_body(request) or b"null")
        jsonschema.validate(body, PROJECT_CREATE)
    except BodyTooLarge:
        return keystone_error(413, "Request Entity Too Large", BodyTooLarge.message)
    except (ValueError, RecursionError, jsonschema.ValidationError) as error:
        message = getattr(error, "message", "Malformed JSON in the request body.")
        return keystone_error(400, "Bad Request", f"Invalid input for field 'project': {message}")
    wanted = body["project"]
    if wanted.get("domain_id") not in (None, tokens.DOMAIN["id"]):
        return keystone_error(404, "Not Found", f"Could not find domain: {wanted['domain_id']}.")
    try:
        with transaction.atomic():
            project = Project.objects.create(
                name=wanted["name"], description=wanted.get("description") or ""
            )
    except IntegrityError:
        return keystone_error(
            409, "Conflict", f"Conflict occurred attempting to store project - {wanted['name']}."
        )
    return JsonResponse({"project": _project(request, project)}, status=201)


@login_not_required
@csrf_exempt
def project(request: HttpRequest, project_id: str) -> HttpResponse:
    """GET shows, DELETE removes a project that holds nothing (Cinderlab keeps what a
    project owns; Keystone would leave it orphaned)."""
    if request.method not in ("GET", "HEAD", "DELETE"):
        return method_not_allowed("GET, HEAD, DELETE")
    refused = _admin(request)
    if refused:
        return refused
    found = Project.objects.filter(pk=project_id).first()
    if found is None:
        return keystone_error(404, "Not Found", f"Could not find project: {project_id}.")
    if request.method != "DELETE":
        return JsonResponse({"project": _project(request, found)})
    in_use = keystone_error(
        409, "Conflict", f"Project {project_id} still owns volumes or snapshots."
    )
    if found.volumes.exists() or found.snapshots.exists():
        return in_use
    try:
        found.delete()
    except ProtectedError:  # deleted volumes keep their rows, and their project
        return in_use
    return HttpResponse(status=204)
