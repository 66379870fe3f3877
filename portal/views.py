from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from core.cinder.access import current_project
from portal import health
from portal.dashboard import dashboard_context
from volumes.rest import misc


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
    return home(request)


def home(request):
    """The dashboard: the user's projects live (every project, for admins)."""
    context = dashboard_context(request.user)
    if not request.user.is_superuser:
        context["project"] = current_project(request)
    return render(request, "portal/home.html", context)


@login_not_required
@require_GET
def favicon(request):
    """``/favicon.ico``, which browsers ask for on their own: the site's SVG icon."""
    return redirect(static("favicon.svg"), permanent=True)


@login_not_required
@never_cache
@require_GET
def healthz(request):
    healthy, report = health.check()
    report["status"] = "ok" if healthy else "degraded"
    return JsonResponse(report, status=200 if healthy else 503)
