from django.contrib import messages as flash
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from portal.access import can_see_project, current_project
from volumes import api, exceptions
from volumes.forms import VolumeCreateForm
from volumes.models import Volume
from volumes.presenters import volume_context, volume_table


def _get_volume_for_user(request, volume_id) -> Volume:
    volume = Volume.objects.select_related("volume_type", "project").filter(id=volume_id).first()
    if volume is None or not can_see_project(request.user, volume.project_id):
        raise Http404("No such volume.")
    return volume


def volume_list(request):
    project = current_project(request)
    volumes = volume_table(Volume.objects.filter(project=project).select_related("volume_type"))
    return render(request, "volumes/list.html", {"project": project, "volumes": volumes})


@require_http_methods(["GET", "POST"])
def volume_create(request):
    project = current_project(request)
    form = VolumeCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            volume = api.create(
                api.request_context(request.user, project),
                size=data["size"],
                name=data["name"],
                description=data["description"],
                volume_type=data["volume_type"].name,
                availability_zone=data["availability_zone"],
            )
        except exceptions.QuotaError as error:
            form.add_error("size", f"{type(error).__name__}: {error}")
        except exceptions.CinderError as error:
            form.add_error(None, str(error))
        else:
            flash.success(request, f"Volume {volume} is being created.")
            return redirect("volumes:detail", volume_id=volume.id)
    return render(request, "volumes/create.html", {"project": project, "form": form})


def volume_detail(request, volume_id):
    volume = _get_volume_for_user(request, volume_id)
    return render(request, "volumes/detail.html", volume_context(volume))


def volume_live(request, volume_id):
    """The live fragment alone: the polling fallback when websockets are unavailable."""
    volume = _get_volume_for_user(request, volume_id)
    return render(request, "volumes/_live.html", volume_context(volume))
