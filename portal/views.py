from django.contrib import messages as flash
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from core.cinder import exceptions
from core.cinder.access import can_change_project, current_project
from portal import health, scenarios
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
    """The dashboard: the user's projects live (every project, for admins), and the start-here
    scenarios for a project the user may change."""
    context = dashboard_context(request.user)
    try:
        project = current_project(request)
    except Http404:
        project = None  # no project yet: the dashboard says so
    if not request.user.is_superuser:
        context["project"] = project
    if project is not None and can_change_project(request.user, project.pk):
        context["scenarios"] = scenarios.SCENARIOS
    return render(request, "portal/home.html", context)


@require_POST
def start_scenario(request, name: str):
    """One click: the scenario's volume at teaching pace, then its live page."""
    if name not in scenarios.SCENARIOS:
        raise Http404("No such scenario.")
    project = current_project(request)
    if project is None or not can_change_project(request.user, project.pk):
        raise PermissionDenied("Your role on this project is read-only.")
    try:
        volume = scenarios.start(name, request.user, project)
    except exceptions.CinderError as error:
        flash.error(request, str(error))
        return redirect("home")
    return redirect("volumes:detail", volume_id=volume.id)


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
