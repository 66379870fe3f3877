"""The volume page's operations, as Horizon's row actions: extend, delete (confirmed), and
for admins update status and force delete. Each goes through the same service layer as
the API (volumes.api, volumes.lifecycle), so it runs the same flows with the same checks."""

from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from core.cinder import exceptions, quota
from volumes import api
from volumes.lifecycle import extend, repair
from volumes.lifecycle_forms import ExtendForm, ResetStatusForm
from volumes.web_access import context_for, require_change, volume_for_user


def _done(request, volume, text: str):
    flash.success(request, text, extra_tags="transient")
    return redirect("volumes:detail", volume_id=volume.id)


@require_http_methods(["GET", "POST"])
def volume_extend(request, volume_id):
    volume = volume_for_user(request, volume_id)
    require_change(request, volume.project_id)
    form = ExtendForm(request.POST or None, volume=volume)
    if request.method == "POST" and form.is_valid():
        try:
            extend.extend(
                context_for(request, volume.project_id) | {"pace": form.cleaned_data["pace"]},
                volume,
                form.cleaned_data["new_size"],
                attached_allowed=True,
            )
        except exceptions.QuotaError as error:
            form.add_error("new_size", quota.over_quota_message(error))
        except exceptions.CinderError as error:
            form.add_error(None, str(error))
        else:
            return _done(
                request,
                volume,
                f"Volume {volume} is being extended to {form.cleaned_data['new_size']} GiB.",
            )
    return render(request, "volumes/extend.html", {"volume": volume, "form": form})


@require_http_methods(["GET", "POST"])
def volume_delete(request, volume_id):
    volume = volume_for_user(request, volume_id)
    require_change(request, volume.project_id)
    cascade = request.POST.get("cascade") == "on"
    return _confirmed_delete(
        request,
        volume,
        lambda context: api.delete(context, volume.id, cascade=cascade),
        force=False,
    )


def _confirmed_delete(request, volume, delete, force: bool):
    """GET: what will go, and why it may be refused. POST: ``delete(context)``."""
    if request.method == "POST":
        try:
            delete(context_for(request, volume.project_id))
        except exceptions.CinderError as error:
            flash.error(request, str(error))
            return redirect("volumes:detail", volume_id=volume.id)
        how = "force-deleted" if force else "deleted"
        return _done(request, volume, f"Volume {volume} is being {how}.")
    context = {"volume": volume, "snapshots": list(volume.snapshots.all()), "force": force}
    return render(request, "volumes/confirm_delete.html", context)


def _admin_only(request) -> None:
    if not request.user.is_superuser:
        raise PermissionDenied("Only admins may do this.")


@require_http_methods(["GET", "POST"])
def volume_reset_status(request, volume_id):
    _admin_only(request)
    volume = volume_for_user(request, volume_id)
    form = ResetStatusForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            update = repair.reset_volume(volume, **form.cleaned_data)
        except exceptions.CinderError as error:
            form.add_error(None, str(error))
        else:
            said = ", ".join(f"{k} {v or 'none'}" for k, v in update.items())
            return _done(request, volume, f"Volume {volume} reset: {said}.")
    return render(request, "volumes/reset_status.html", {"volume": volume, "form": form})


@require_http_methods(["GET", "POST"])
def volume_force_delete(request, volume_id):
    _admin_only(request)
    volume = volume_for_user(request, volume_id)
    return _confirmed_delete(
        request, volume, lambda context: repair.force_delete_volume(context, volume), force=True
    )
