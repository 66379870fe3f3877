"""The version document at ``/v3/`` (200); ``/`` (300, shared with the dashboard) is the
deployment's own view, in :mod:`portal.views`."""

from django.contrib.auth.decorators import login_not_required
from django.views.decorators.csrf import csrf_exempt

from volumes.rest import faults, misc

READ_METHODS = ("GET", "HEAD")


@login_not_required
@csrf_exempt
def version_document(request, project_id=None):
    """GET /v3/ (and /v3, /v3/<project_id>/): 200 with the same document as /."""
    if request.method not in READ_METHODS:
        return faults.response(
            405,
            "The method specified is not allowed for this resource.",
            {"Allow": ", ".join(READ_METHODS)},
        )
    return misc.versions_response(request, 200)
