"""The JSON Keystone answers with: version documents, token bodies, the catalog."""

from django.http import HttpRequest

from core.cinder.tokens import DOMAIN, Token, roles_for

VERSION_ID = "v3.14"
UPDATED = "2020-04-07T00:00:00Z"
MEDIA_TYPES = [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]


def isotime(value) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def base_url(request: HttpRequest) -> str:
    """This server's root as the client reached it (no trailing slash)."""
    return request.build_absolute_uri("/").rstrip("/")


def version(request: HttpRequest) -> dict:
    return {
        "id": VERSION_ID,
        "status": "stable",
        "updated": UPDATED,
        "links": [{"rel": "self", "href": f"{base_url(request)}/identity/v3/"}],
        "media-types": MEDIA_TYPES,
    }


def catalog(request: HttpRequest, project_id: str) -> list[dict]:
    """block-storage and volumev3 both point at this server's /v3/<project_id>."""
    url = f"{base_url(request)}/v3/{project_id}"
    entries = []
    for kind, name in (("block-storage", "cinder"), ("volumev3", "cinderv3")):
        endpoints = [
            {
                "id": f"{kind}-{interface}",
                "interface": interface,
                "region": "RegionOne",
                "region_id": "RegionOne",
                "url": url,
            }
            for interface in ("public", "internal", "admin")
        ]
        entries.append({"id": kind, "type": kind, "name": name, "endpoints": endpoints})
    identity = f"{base_url(request)}/identity"
    entries.append(
        {
            "id": "identity",
            "type": "identity",
            "name": "keystone",
            "endpoints": [
                {
                    "id": f"identity-{i}",
                    "interface": i,
                    "region": "RegionOne",
                    "region_id": "RegionOne",
                    "url": identity,
                }
                for i in ("public", "internal", "admin")
            ],
        }
    )
    return entries


def token_body(request: HttpRequest, token: Token, with_catalog: bool = True) -> dict:
    user = token.user
    body = {
        "methods": token.methods,
        "user": {
            "id": str(user.pk),
            "name": user.get_username(),
            "domain": DOMAIN,
            "password_expires_at": None,
        },
        "audit_ids": [token.audit_id],
        "issued_at": isotime(token.issued_at),
        "expires_at": isotime(token.expires_at),
    }
    if token.project_id:
        project = token.project
        body["project"] = {"id": project.pk, "name": project.name, "domain": DOMAIN}
        body["is_domain"] = False
        body["roles"] = [{"id": name, "name": name} for name in roles_for(user, project)]
        if with_catalog:
            body["catalog"] = catalog(request, project.pk)
    return {"token": body}
