"""The volume page's operations that move its data or type, as Horizon's row actions:
revert to snapshot, change type (with the migration policy) and, for admins, migrate. Each
goes through the same service layer as the API (``volumes.lifecycle``), so it runs the same
flows with the same checks."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from core.cinder import exceptions, quota
from core.cinder.models import Snapshot
from scheduler import rpcapi as scheduler_rpcapi
from volumes.action_views import _done
from volumes.lifecycle import migrate, retype, revert
from volumes.move_forms import MigrateForm, RetypeForm
from volumes.web_access import context_for, require_change, volume_for_user

# What each adds to the volume page's actions (see volumes.presenters.ACTION_TEMPLATES).
ACTION_TEMPLATES = [
    "volumes/action_revert.html",
    "volumes/action_retype.html",
    "volumes/action_migrate.html",
]


@require_http_methods(["GET", "POST"])
def volume_revert(request, volume_id):
    """GET: the latest snapshot (the only one Cinder reverts to). POST: revert to it."""
    volume = volume_for_user(request, volume_id)
    require_change(request, volume.project_id)
    latest = revert.latest_snapshot(volume)
    error = None
    if request.method == "POST":
        try:
            snapshot = revert.check_latest(volume, request.POST.get("snapshot_id"))
            revert.revert(context_for(request, volume.project_id), volume, snapshot)
        except exceptions.CinderError as failure:
            error = str(failure)
        else:
            return _done(request, volume, f"Volume {volume} is being reverted to {snapshot}.")
    older = Snapshot.objects.filter(volume_id=volume.id).exclude(id=getattr(latest, "id", None))
    context = {"volume": volume, "latest": latest, "older": older, "error": error}
    return render(request, "volumes/revert.html", context)


@require_http_methods(["GET", "POST"])
def volume_retype(request, volume_id):
    volume = volume_for_user(request, volume_id)
    require_change(request, volume.project_id)
    form = RetypeForm(request.POST or None, volume=volume, is_admin=request.user.is_superuser)
    if request.method == "POST" and form.is_valid():
        new_type = form.cleaned_data["volume_type"]
        try:
            retype.retype(
                context_for(request, volume.project_id),
                volume,
                str(new_type.id),
                form.cleaned_data["migration_policy"],
            )
        except exceptions.QuotaError as failure:
            form.add_error("volume_type", quota.over_quota_message(failure))
        except exceptions.CinderError as failure:
            form.add_error(None, str(failure))
        else:
            return _done(request, volume, f"Volume {volume} is changing type to {new_type}.")
    return render(request, "volumes/retype.html", {"volume": volume, "form": form})


@require_http_methods(["GET", "POST"])
def volume_migrate(request, volume_id):
    if not request.user.is_superuser:
        raise PermissionDenied("Only admins may migrate volumes.")
    volume = volume_for_user(request, volume_id)
    context = context_for(request, volume.project_id)
    pools = [pool["name"] for pool in scheduler_rpcapi.get_pools(context)]
    form = MigrateForm(request.POST or None, volume=volume, pools=pools)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            migrate.migrate(
                context,
                volume,
                data["host"],
                force_host_copy=data["force_host_copy"],
                lock_volume=data["lock_volume"],
            )
        except exceptions.CinderError as failure:
            form.add_error(None, str(failure))
        else:
            return _done(request, volume, f"Volume {volume} is migrating to {data['host']}.")
    return render(request, "volumes/migrate.html", {"volume": volume, "form": form})
