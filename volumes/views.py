from django.conf import settings
from django.contrib import messages as flash
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from core.cinder import exceptions, quota
from core.cinder.access import can_see_project, current_project
from core.cinder.models import Image, Snapshot, Volume
from core.kernel.numbers import ascii_int
from volumes import api, images
from volumes.forms import AttachForm, ImageUploadForm, SnapshotCreateForm, VolumeCreateForm
from volumes.presenters import volume_context, volume_table
from volumes.quota_bars import limit_bars
from volumes.web_access import context_for, require_change, volume_for_user


def volume_list(request):
    project = current_project(request)
    mine = Volume.objects.filter(project=project).exclude(migration_status__startswith="target:")
    volumes = volume_table(mine.select_related("volume_type"))
    return render(request, "volumes/list.html", {"project": project, "volumes": volumes})


@require_http_methods(["GET", "POST"])
def volume_create(request):
    project = current_project(request)
    initial = _source_from_query(request.GET)
    form = VolumeCreateForm(
        request.POST or None,
        project=project,
        is_admin=request.user.is_superuser,
        initial=initial,
    )
    if request.method == "POST":
        require_change(request, project.pk)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            volume = api.create(
                api.request_context(request.user, project) | {"pace": data["pace"] or "real"},
                size=data["size"],
                name=data["name"],
                description=data["description"],
                volume_type=data["volume_type"].name,
                availability_zone=data["availability_zone"],
                **data["source"],
            )
        except exceptions.QuotaError as error:
            form.add_error("size", quota.over_quota_message(error))
        except exceptions.CinderError as error:
            form.add_error(None, str(error))
        else:
            flash.success(request, f"Volume {volume} is being created.", extra_tags="transient")
            return redirect("volumes:detail", volume_id=volume.id)
    return render(request, "volumes/create.html", {"project": project, "form": form})


def volume_detail(request, volume_id):
    volume = volume_for_user(request, volume_id, deleted=True)
    context = volume_context(volume, request.user) | {"attach_form": AttachForm()}
    return render(request, "volumes/detail.html", context)


def volume_live(request, volume_id):
    """The live fragment alone: the polling fallback when websockets are unavailable."""
    volume = volume_for_user(request, volume_id, deleted=True)
    return render(request, "volumes/_live.html", volume_context(volume, request.user))


def quota_bars(request):
    """The create form's limit bars alone: the fallback when the websocket is down."""
    project = current_project(request)
    size = request.GET.get("size", "")
    size = ascii_int(size) or 0
    context = {"q": limit_bars(project.pk, size, request.GET.get("volume_type"))}
    return render(request, "volumes/_quota_bars.html#bars", context)


def _source_from_query(query) -> dict:
    """Horizon's context-aware form: ``?snapshot_id=``, ``?image_id=`` or ``?volume_id=``."""
    for param, kind in (
        ("snapshot_id", "snapshot_source"),
        ("image_id", "image_source"),
        ("volume_id", "volume_source"),
    ):
        if query.get(param):
            return {"volume_source_type": kind, kind: query[param]}
    return {}


@require_POST
def snapshot_create(request, volume_id):
    volume = volume_for_user(request, volume_id)
    require_change(request, volume.project_id)
    form = SnapshotCreateForm(request.POST)
    if not form.is_valid():
        flash.error(request, "Invalid snapshot name or description.")
        return redirect("volumes:detail", volume_id=volume.id)
    try:
        snapshot = api.create_snapshot(
            context_for(request, volume.project_id),
            volume.id,
            name=form.cleaned_data["name"],
            description=form.cleaned_data["description"],
        )
    except exceptions.QuotaError as error:
        flash.error(request, f"{type(error).__name__}: {error}")
    except exceptions.CinderError as error:
        flash.error(request, str(error))
    else:
        flash.success(request, f"Snapshot {snapshot} is being created.")
    return redirect("volumes:detail", volume_id=volume.id)


@require_POST
def snapshot_delete(request, snapshot_id):
    snapshot = Snapshot.objects.filter(id=snapshot_id).first()
    if snapshot is None or not can_see_project(request.user, snapshot.project_id):
        raise Http404("No such snapshot.")
    require_change(request, snapshot.project_id)
    try:
        api.delete_snapshot(context_for(request, snapshot.project_id), snapshot.id)
    except exceptions.CinderError as error:
        flash.error(request, str(error))
    else:
        flash.success(request, f"Snapshot {snapshot} is being deleted.")
    return redirect("volumes:detail", volume_id=snapshot.volume_id)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def image_list(request):
    """The image catalog, with an upload form (a file saved under VAR_DIR/images).

    The upload is counted as it streams in and stopped past IMAGE_UPLOAD_MAX_BYTES, so an
    oversized file never fills the disk (the handler must be in place before the body is
    read, hence CSRF checked here rather than by the middleware).
    """
    limit = images.SizeLimit(request, settings.IMAGE_UPLOAD_MAX_BYTES)
    request.upload_handlers.insert(0, limit)
    return _image_list(request, limit)


@csrf_protect
def _image_list(request, limit):
    project = current_project(request)
    form = ImageUploadForm(
        request.POST or None, request.FILES or None, is_admin=request.user.is_superuser
    )
    if request.method == "POST":
        require_change(request, project.pk)
    if limit.exceeded:
        form.add_error("file", f"The image is larger than {limit.bytes} bytes.")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        image = images.upload(
            data["file"],
            name=data["name"],
            disk_format=data["disk_format"],
            min_disk=data["min_disk"],
            owner=project,
            visibility=data["visibility"],
        )
        flash.success(request, f"Image {image} uploaded ({image.size} bytes).")
        return redirect("volumes:images")
    catalog = [i for i in Image.objects.select_related("owner") if i.usable_by(project.pk)]
    return render(
        request, "volumes/images.html", {"project": project, "form": form, "images": catalog}
    )
