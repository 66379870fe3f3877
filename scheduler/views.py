"""The scheduler's pages: what-if (decide over the live fleet, create nothing) and pools."""

from django.conf import settings
from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.cinder.access import projects_of
from scheduler import backends, whatif
from scheduler.forms import DisableForm, WhatIfForm
from scheduler.trace_view import trace_view

POOLS_PER_PAGE = 100


def _require_member(request) -> None:
    """Project members (and administrators) may look at the fleet."""
    if not (request.user.is_superuser or projects_of(request.user)):
        raise PermissionDenied("Only project members may see the fleet.")


@require_GET
def what_if(request):
    _require_member(request)
    form = WhatIfForm(
        request.GET or None,
        projects=projects_of(request.user),
        is_admin=request.user.is_superuser,
    )
    context = {"form": form}
    if form.is_valid():
        data = form.cleaned_data
        vtype = data["volume_type"]
        outcome = whatif.run(
            data["size"], vtype.extra_specs_dict(), data["availability_zone"] or None
        )
        context.update(
            outcome=outcome,
            record=outcome.record,
            view=trace_view(outcome.as_trace()),
            extra_specs=vtype.visible_extra_specs(request.user.is_superuser),
        )
    return render(request, "scheduler/what_if.html", context)


@require_GET
def pool_list(request):
    _require_member(request)
    query, status = request.GET.get("q", "").strip(), request.GET.get("status", "")
    rows, counts = backends.pool_rows(query, status)
    page = Paginator(rows, POOLS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "scheduler/pools.html",
        {
            "page": page,
            "counts": counts,
            "q": query,
            "status": status,
            "service_down_time": settings.SERVICE_DOWN_TIME,
        },
    )


@require_POST
def backend_disable(request, host: str):
    _require_admin(request)
    form = DisableForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        backends.set_disabled(host, True, reason)
    except backends.BackendError as error:
        flash.error(request, f"{host} not disabled: {error}")
    else:
        flash.success(request, f"{host} disabled: {reason}")
    return redirect(_back(request))


@require_POST
def backend_enable(request, host: str):
    _require_admin(request)
    try:
        backends.set_disabled(host, False)
    except backends.BackendError as error:
        flash.error(request, f"{host} not enabled: {error}")
    else:
        flash.success(request, f"{host} enabled.")
    return redirect(_back(request))


def _require_admin(request) -> None:
    if not request.user.is_superuser:
        raise PermissionDenied("Only administrators may disable or enable a backend.")


def _back(request) -> str:
    """Back to the pools page the admin came from (same filters), never off-site."""
    from django.urls import reverse
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("scheduler:pools")
