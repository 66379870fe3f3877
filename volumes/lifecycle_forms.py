"""The forms of the volume page's operations (Horizon's row actions)."""

from django import forms
from django.core.validators import MinValueValidator

from core.cinder.models import VOLUME_STATUSES
from core.kernel.pace import PACES
from volumes.lifecycle.repair import ATTACH_STATUSES, MIGRATION_STATUSES

MAX_SIZE = 2147483647


class ExtendForm(forms.Form):
    new_size = forms.IntegerField(label="New size (GiB)", max_value=MAX_SIZE)
    pace = forms.ChoiceField(choices=PACES, initial="real", required=False, label="Pace")

    def __init__(self, *args, volume, **kwargs):
        super().__init__(*args, **kwargs)
        self.volume = volume
        field = self.fields["new_size"]
        field.min_value = volume.size + 1
        field.widget.attrs.update(min=volume.size + 1)
        field.validators.append(MinValueValidator(volume.size + 1))
        field.initial = volume.size + 1
        field.help_text = f"Now {volume.size} GiB. Cinder extends only; it never shrinks."


def _choices(values, blank: str) -> list[tuple[str, str]]:
    return [("", blank)] + [(v, v) for v in values]


class ResetStatusForm(forms.Form):
    """Cinder's os-reset_status: any of the three; what is left blank stays as it is."""

    status = forms.ChoiceField(
        required=False,
        choices=_choices([s for s in VOLUME_STATUSES if s != "deleted"], "— keep —"),
    )
    attach_status = forms.ChoiceField(required=False, choices=_choices(ATTACH_STATUSES, "— keep —"))
    migration_status = forms.ChoiceField(
        required=False, choices=_choices(MIGRATION_STATUSES, "— keep —")
    )
