"""The version documents: ``/`` (300, shared with the dashboard) and ``/v3/`` (200)."""

from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.vary import vary_on_headers

from portal import views as portal_views
from volumes.rest import misc


@login_not_required
@csrf_exempt
def version_document(request, project_id=None):
    """GET /v3/ (and /v3, /v3/<project_id>/): 200 with the same document as /."""
    return misc.versions_response(request, 200)


@login_not_required
@vary_on_headers("Accept")
def root(request):
    """``/``: API clients (Accept: JSON) get 300 Multiple Choices; browsers the dashboard.

    Login is enforced here for the HTML branch, since the JSON branch must
    answer without a session (cinderclient's version discovery).
    """
    if misc.wants_json(request):
        return misc.versions_response(request, 300)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return portal_views.home(request)
