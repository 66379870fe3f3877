"""The Backends page (cloud admins): each backend, its service and its faults to set and clear."""

from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from agent.forms import FaultForm
from agent.models import BackendConfig, Fault
from core.kernel.models import Service


def _require_admin(request) -> None:
    if not request.user.is_superuser:
        raise PermissionDenied("Only the cloud admin may see and change backends' faults.")


@require_GET
def backend_list(request):
    _require_admin(request)
    services = {s.host: s for s in Service.objects.filter(binary="cinder-volume")}
    backends = []
    for config in BackendConfig.objects.prefetch_related("faults"):
        backends.append(
            {
                "config": config,
                "service": services.get(config.service_host),
                "faults": [f for f in config.faults.all() if f.active and not f.spent],
                "spent": [f for f in config.faults.all() if f.spent],
                "form": FaultForm(prefix=f"b{config.pk}"),
            }
        )
    return render(request, "agent/backends.html", {"backends": backends})


@require_POST
def fault_add(request, backend_id: int):
    _require_admin(request)
    backend = get_object_or_404(BackendConfig, pk=backend_id)
    form = FaultForm(request.POST, prefix=f"b{backend.pk}")
    if form.is_valid():
        fault = form.save(commit=False)
        fault.backend = backend
        fault.save()
        flash.success(request, f"Fault set: {fault}")
    else:
        errors = "; ".join(e for errs in form.errors.values() for e in errs)
        flash.error(request, f"Fault not set: {errors}")
    return redirect("agent:backends")


@require_POST
def fault_clear(request, fault_id: int):
    _require_admin(request)
    fault = get_object_or_404(Fault, pk=fault_id)
    Fault.objects.filter(pk=fault.pk).update(active=False)
    flash.success(request, f"Fault cleared: {fault}")
    return redirect("agent:backends")


@require_POST
def fault_remove(request, fault_id: int):
    """A spent fault (or any other) is removed for good."""
    _require_admin(request)
    fault = get_object_or_404(Fault, pk=fault_id)
    fault.delete()
    flash.success(request, f"Fault removed: {fault.backend} {fault.operation}")
    return redirect("agent:backends")
