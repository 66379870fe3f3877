"""The operator's console: Django admin actions that go through Cinder's service layer.

Every action an admin takes on a volume, a snapshot or a piece of work in flight calls the
same code as the API and the pages (``volumes.api``, ``volumes.lifecycle.repair``,
``core.cinder.cleanable``), so quota, storage, work rows and notifications stay true; a row
is never simply written or dropped. Actions that change statuses or delete by force ask
first, on a page of their own (the statuses as choices).
"""

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from core.cinder import exceptions
from core.cinder.models import ATTACH_STATUSES, SNAPSHOT_STATUSES, VOLUME_STATUSES
from volumes import api
from volumes.lifecycle import repair
from volumes.lifecycle_forms import ResetStatusForm


def choices(values) -> list[tuple[str, str]]:
    return [(v, v) for v in values]


def for_each(modeladmin, request, queryset, act: Callable, done: str) -> int:
    """``act(row)`` for each selected row; Cinder's refusals said per row, the rest counted."""
    count = 0
    for row in queryset:
        try:
            act(row)
            count += 1
        except exceptions.CinderError as error:
            modeladmin.message_user(request, f"{row}: {error}", messages.ERROR)
    if count:
        modeladmin.message_user(request, f"{count} {done}.", messages.SUCCESS)
    return count


def asked_first(modeladmin, request, queryset, *, title: str, form_class=None, apply: Callable):
    """An action that asks first: a page listing the rows (with ``form_class``'s choices);
    ``apply(row, **choices)`` runs for each row once the admin confirms."""
    form = None
    if form_class is not None:
        form = form_class(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and (form is None or form.is_valid()):
        chosen = form.cleaned_data if form is not None else {}
        for_each(modeladmin, request, queryset, lambda row: apply(row, **chosen), "done")
        return None  # back to the list, with the messages
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "opts": modeladmin.model._meta,
        "rows": list(queryset),
        "form": form,
        "action": request.POST["action"],
        "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/cinder/action_form.html", context)


def context_of(request, row) -> dict:
    return api.request_context(request.user, row.project)


# -- volumes ---------------------------------------------------------------------------

MIGRATION_CHOICES = [("", "none")] + choices(m for m in repair.MIGRATION_STATUSES if m != "none")


class VolumeAdminForm(forms.ModelForm):
    """Statuses as Cinder's choices; a change is Cinder's reset-state (checked by its rules
    here, applied by :func:`repair.reset_volume` when saved)."""

    status = forms.ChoiceField(choices=choices(VOLUME_STATUSES))
    attach_status = forms.ChoiceField(choices=choices(ATTACH_STATUSES))
    migration_status = forms.ChoiceField(choices=MIGRATION_CHOICES, required=False)

    RESET_FIELDS = ("status", "attach_status", "migration_status")

    def reset(self) -> dict:
        """What the admin changed of the three, as reset-state takes it."""
        changed = {k: self.cleaned_data[k] for k in self.RESET_FIELDS if k in self.changed_data}
        if "migration_status" in changed:
            changed["migration_status"] = changed["migration_status"] or "none"
        return changed

    def clean(self):
        data = super().clean()
        if self.instance.pk and not self.errors and self.reset():
            try:
                repair.checked_reset(self.instance, **self.reset())
            except exceptions.InvalidInput as error:
                raise forms.ValidationError(str(error)) from error
        return data


def save_volume(request, volume, form) -> None:
    """Save the names; statuses only through reset-state (work dropped, notifications sent)."""
    reset = form.reset()
    for field in VolumeAdminForm.RESET_FIELDS:
        setattr(volume, field, form.initial[field])
    volume.save(update_fields=["display_name", "display_description", "updated_at"])
    if reset:
        repair.reset_volume(volume, **reset)


def reset_volumes(modeladmin, request, queryset):
    return asked_first(
        modeladmin,
        request,
        queryset,
        title="Reset the state of these volumes (Cinder's os-reset_status)",
        form_class=ResetStatusForm,
        apply=lambda volume, **chosen: repair.reset_volume(volume, **chosen),
    )


def force_delete_volumes(modeladmin, request, queryset):
    return asked_first(
        modeladmin,
        request,
        queryset,
        title="Force-delete these volumes, whatever their status (Cinder's os-force_delete)",
        apply=lambda volume: repair.force_delete_volume(context_of(request, volume), volume),
    )


# -- snapshots -------------------------------------------------------------------------


class SnapshotResetForm(forms.Form):
    status = forms.ChoiceField(choices=choices(SNAPSHOT_STATUSES))


def save_snapshot(request, snapshot, form) -> None:
    status = form.cleaned_data["status"]
    snapshot.status = form.initial["status"]
    snapshot.save(update_fields=["display_name", "display_description", "updated_at"])
    if "status" in form.changed_data:
        repair.reset_snapshot(snapshot, status)


def reset_snapshots(modeladmin, request, queryset):
    return asked_first(
        modeladmin,
        request,
        queryset,
        title="Reset the state of these snapshots (Cinder's os-reset_status)",
        form_class=SnapshotResetForm,
        apply=lambda snapshot, status: repair.reset_snapshot(snapshot, status),
    )


def force_delete_snapshots(modeladmin, request, queryset):
    return asked_first(
        modeladmin,
        request,
        queryset,
        title="Force-delete these snapshots, whatever their status (Cinder's os-force_delete)",
        apply=lambda snapshot: repair.force_delete_snapshot(
            context_of(request, snapshot), snapshot
        ),
    )
