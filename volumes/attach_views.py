"""The volume page's "Manage attachments" (Horizon's): attach the volume to a pretend server,
see the connector the host gave and the connection info the backend answered, detach.

There is no Nova: a server is an instance UUID made from its name (the same name, the same
server), and its compute host's connector is made up as os-brick would report it. An
attach is what Nova does since Queens, through the same service layer as the API:
``attachment_create`` with the connector (the backend exports the volume), then
``os-complete``; a detach is ``attachment_delete``.
"""

import hashlib
import json
import uuid

from django.contrib import messages as flash
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.cinder import exceptions
from core.cinder.models import VolumeAttachment
from core.kernel import queues
from volumes.forms import AttachForm
from volumes.lifecycle import attachments
from volumes.web_access import context_for, require_change, volume_for_user


def pretend_server(name: str) -> str:
    """The instance UUID of the pretend server called ``name``."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"cinderlab:server:{name}"))


def connector_for(host: str) -> dict:
    """What os-brick would report for compute host ``host`` (an initiator and an address
    derived from its name, in the documentation range)."""
    digest = hashlib.sha256(host.encode()).hexdigest()
    return {
        "initiator": f"iqn.1993-08.org.debian:01:{digest[:12]}",
        "ip": f"198.51.100.{int(digest[12:14], 16) % 254 + 1}",
        "host": host,
        "platform": "x86_64",
        "os_type": "linux",
        "multipath": False,
        "mountpoint": "/dev/vdb",
    }


def panel(volume_id) -> dict:
    """The live "Attachments" section: what is attached now, and what was."""
    rows = VolumeAttachment.all_objects.filter(volume_id=volume_id).order_by("created_at")
    return {
        "volume_id": volume_id,
        "attachments": [_shown(a) for a in rows if not a.deleted],
        "past": [a for a in rows if a.deleted],
    }


def _shown(attachment: VolumeAttachment) -> dict:
    return {
        "row": attachment,
        "connector": json.dumps(attachment.connector, indent=2, sort_keys=True),
        "connection_info": json.dumps(attachment.connection_info, indent=2, sort_keys=True),
    }


def _card(request, volume, form, outcome: str = "", failed: bool = False):
    context = {"volume": volume, "attach_form": form, "outcome": outcome, "failed": failed}
    return render(request, "volumes/_manage_attachments.html", context)


@require_POST
def attach(request, volume_id):
    volume = volume_for_user(request, volume_id)
    require_change(request, volume.project_id)
    form = AttachForm(request.POST)
    if not form.is_valid():
        return _answer(request, volume, form, "Give a server name and a host name.", True)
    server, host = form.cleaned_data["server"], form.cleaned_data["host"]
    context = context_for(request, volume.project_id)
    try:
        made = attachments.create(
            context,
            volume,
            pretend_server(server),
            connector_for(host),
            form.cleaned_data["mode"],
        )
        attachments.complete(context, made)
    except exceptions.CinderError as error:
        return _answer(request, volume, form, str(error), True)
    except (queues.RemoteError, queues.CallTimedOut):
        return _answer(request, volume, form, "The backend could not attach the volume.", True)
    return _answer(request, volume, AttachForm(), f"Attached to {server} on {host}.")


@require_POST
def detach(request, volume_id, attachment_id):
    volume = volume_for_user(request, volume_id)
    require_change(request, volume.project_id)
    context = context_for(request, volume.project_id)
    try:
        attachment = attachments.get_attachment(context, attachment_id)
        if attachment.volume_id != volume.id:
            raise exceptions.VolumeAttachmentNotFound(filter=f"attachment_id = {attachment_id}")
        attachments.delete(context, attachment)
    except exceptions.CinderError as error:
        return _answer(request, volume, AttachForm(), str(error), True)
    except (queues.RemoteError, queues.CallTimedOut):
        return _answer(request, volume, AttachForm(), "The backend could not detach it.", True)
    return _answer(request, volume, AttachForm(), "Detached.")


def _answer(request, volume, form, outcome: str, failed: bool = False):
    """htmx swaps the card in place (the live section shows the rest); a plain form
    post goes back to the page with the outcome as a message."""
    if request.htmx:
        return _card(request, volume, form, outcome, failed)
    (flash.error if failed else flash.success)(request, outcome, extra_tags="transient")
    return redirect("volumes:detail", volume_id=volume.id)
