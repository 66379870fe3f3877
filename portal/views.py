from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal import health
from portal.access import current_project
from portal.dashboard import dashboard_context


def home(request):
    """The dashboard: the user's projects live (every project, for admins)."""
    context = dashboard_context(request.user)
    if not request.user.is_superuser:
        context["project"] = current_project(request)
    return render(request, "portal/home.html", context)


@login_not_required
@never_cache
@require_GET
def healthz(request):
    healthy, report = health.check()
    report["status"] = "ok" if healthy else "degraded"
    return JsonResponse(report, status=200 if healthy else 503)
