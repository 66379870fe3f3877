"""Who may act on what from the web pages: a volume the user may see, and the request
context to act with in its project."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from core.cinder.access import can_change_project, can_see_project
from core.cinder.models import Project, Volume
from volumes import api


def volume_for_user(request, volume_id, deleted: bool = False) -> Volume:
    """The volume if the user may see it (a deleted one too, for its page); else 404."""
    volumes = Volume.all_objects if deleted else Volume.objects
    volume = volumes.select_related("volume_type", "project").filter(id=volume_id).first()
    if volume is None or not can_see_project(request.user, volume.project_id):
        raise Http404("No such volume.")
    return volume


def context_for(request, project_id) -> dict:
    return api.request_context(request.user, Project.objects.get(pk=project_id))


def require_change(request, project_id) -> None:
    """A project reader sees everything a member sees and changes nothing."""
    if not can_change_project(request.user, project_id):
        raise PermissionDenied("Your role on this project is read-only.")
