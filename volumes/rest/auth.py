"""Who is calling: a Keystone token, or (only when set explicitly) Cinder's noauth header.

``CINDERLAB_AUTH=keystone`` (the default): ``X-Auth-Token`` must be a live
token scoped to a project. ``CINDERLAB_AUTH=noauth``: ``X-Auth-Token:
user:project``, the user by name or id and the project by id or name; the
user must belong to the project (or be a superuser), since volumes belong to
real portal users here.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q

from core.cinder import tokens
from core.cinder.models import Project
from core.kernel.numbers import ascii_int
from volumes import api
from volumes.rest.faults import Fault

UNAUTHORIZED = "The request you have made requires authentication."


@dataclass
class Caller:
    user: object
    project: Project
    roles: list[str] = field(default_factory=list)
    request_id: str = ""

    @property
    def is_admin(self) -> bool:
        """The cloud admin (a superuser): the one meaning of admin, in the API as on the web.

        An ``admin`` role on some project is Keystone's project admin: it grants nothing
        outside that project, and inside it no more than a member has.
        """
        return bool(self.user.is_superuser)

    @property
    def may_change(self) -> bool:
        """Cinder's default policies let a project ``reader`` read only: every write
        needs ``member`` (or the cloud admin)."""
        return self.is_admin or "member" in self.roles

    @property
    def project_id(self) -> str:
        return str(self.project.pk)

    def context(self) -> dict:
        """The plain context the flows carry, with the token's admin role."""
        context = api.request_context(self.user, self.project)
        context["is_admin"] = self.is_admin
        if self.request_id:  # the x-openstack-request-id of this API call
            context["request_id"] = self.request_id
        return context


def authenticate(request) -> Caller:
    raw = request.headers.get("X-Auth-Token", "")
    if settings.CINDERLAB_AUTH == "noauth":
        return _noauth(raw)
    token = tokens.validate(raw)
    if token is None or token.project_id is None:
        raise Fault(401, UNAUTHORIZED)
    return Caller(token.user, token.project, token.roles)


def _noauth(raw: str) -> Caller:
    user_ref, sep, project_ref = raw.partition(":")
    if not sep or not user_ref or len(raw) > 512:
        raise Fault(401, UNAUTHORIZED)
    project_ref = project_ref or user_ref
    users = get_user_model().objects.filter(is_active=True)
    by_id = ascii_int(user_ref)
    user = users.filter(
        Q(username=user_ref) | Q(pk=by_id) if by_id is not None else Q(username=user_ref)
    ).first()
    project = Project.objects.filter(Q(pk=project_ref) | Q(name=project_ref)).first()
    if user is None or project is None:
        raise Fault(401, UNAUTHORIZED)
    roles = tokens.roles_for(user, project)
    if not roles:
        raise Fault(401, UNAUTHORIZED)
    return Caller(user, project, roles)
