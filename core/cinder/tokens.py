"""Issuing, validating and revoking tokens. Only SHA-256 digests are stored."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from core.cinder.models import Membership, Project, Token
from core.kernel import plain_sql
from core.kernel.env import envint

# Keystone's [token] expiration default.
TOKEN_EXPIRATION = envint("KEYSTONE_TOKEN_EXPIRATION", 3600)
DOMAIN = {"id": "default", "name": "Default"}


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


# Keystone's implied roles: admin implies member, member implies reader.
IMPLIED_ROLES = {
    "admin": ["admin", "member", "reader"],
    "member": ["member", "reader"],
    "reader": ["reader"],
}


def roles_for(user, project: Project | None) -> list[str]:
    """Keystone role names the user holds on the project ([] if not a member)."""
    if project is None or user.is_superuser:
        return implied_roles(user, project, None)
    membership = plain_sql.by_key(Membership, {"user": user.pk, "project": project.pk})
    return implied_roles(user, project, membership.role if membership else None)


def implied_roles(user, project: Project | None, role: str | None) -> list[str]:
    """The role names a membership ``role`` (None: not a member) gives on the project.
    Superusers are admins everywhere, as Keystone's cloud admin."""
    if project is None:
        return []
    if user.is_superuser:
        return IMPLIED_ROLES["admin"]
    return IMPLIED_ROLES.get(role, []) if role else []


@dataclass
class Issued:
    raw: str
    token: Token


def credential(user) -> str:
    """A fingerprint of the user's password hash: a new password changes it."""
    return digest(user.password or "")


def issue(user, project: Project | None, methods: list[str], parent: Token | None = None) -> Issued:
    """A new token; one issued from another (``parent``) ends when that one would."""
    raw = "gAAAAA" + secrets.token_urlsafe(48)  # looks like a Fernet token; opaque anyway
    now = timezone.now()
    token = Token.objects.create(
        digest=digest(raw),
        user=user,
        project=project,
        methods=methods,
        audit_id=secrets.token_urlsafe(16)[:22],
        issued_at=now,
        expires_at=parent.expires_at if parent else now + timedelta(seconds=TOKEN_EXPIRATION),
        parent=parent,
        credential=credential(user),
    )
    return Issued(raw, token)


def validate(raw: str | None) -> Token | None:
    """The live token for ``raw``: not expired, not revoked, user active, still a member.

    Every API request asks, so it is read by keys (token, user, project, membership)
    rather than as one joined ORM query, whose building cost four times the reads."""
    if not raw:
        return None
    token = plain_sql.by_key(Token, {"digest": digest(raw)})
    if token is None or token.revoked_at is not None or token.expires_at <= timezone.now():
        return None
    user = plain_sql.by_key(get_user_model(), {"id": token.user_id})
    if user is None or not user.is_active or token.credential != credential(user):
        return None
    token.user = user
    if token.project_id:
        token.project = plain_sql.by_key(Project, {"id": token.project_id})
    token.roles = roles_for(user, token.project)  # for the caller
    if token.project_id and not token.roles:
        return None
    return token


def revoke(token: Token) -> None:
    """Revoke the token and every token issued from it, as Keystone's audit chain does."""
    now = timezone.now()
    ids = [token.pk]
    while ids:
        Token.objects.filter(pk__in=ids, revoked_at__isnull=True).update(revoked_at=now)
        ids = list(Token.objects.filter(parent_id__in=ids).values_list("pk", flat=True))
