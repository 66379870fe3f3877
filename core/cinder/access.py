"""Who may see what: one place for project scoping."""

from django.http import Http404

from core.cinder.models import Membership, Project


def projects_of(user) -> list[Project]:
    return [m.project for m in Membership.objects.filter(user=user).select_related("project")]


def current_project(request) -> Project:
    """The project the user works in: the one chosen in the session, else their first."""
    projects = projects_of(request.user)
    chosen = request.session.get("project_id")
    for project in projects:
        if project.pk == chosen:
            return project
    if projects:
        return projects[0]
    raise Http404("You are not a member of any project.")


def can_see_project(user, project_id: str) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return Membership.objects.filter(user=user, project_id=project_id).exists()


def can_change_project(user, project_id: str) -> bool:
    """Acting on a project's resources needs more than its ``reader`` role."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return (
        Membership.objects.filter(user=user, project_id=project_id).exclude(role="reader").exists()
    )
