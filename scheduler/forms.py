from django import forms
from django.conf import settings

from core.cinder.models import VolumeType
from core.kernel.models import Service


def zone_choices() -> list[tuple[str, str]]:
    zones = sorted(
        set(
            Service.objects.filter(binary="cinder-volume").values_list(
                "availability_zone", flat=True
            )
        )
    )
    return [("", "any zone"), *[(z, z) for z in zones]]


class WhatIfForm(forms.Form):
    volume_type = forms.ModelChoiceField(
        queryset=VolumeType.objects.none(),
        to_field_name="name",  # see __init__
    )
    size = forms.IntegerField(min_value=1, max_value=1_000_000, initial=1, label="Size (GiB)")
    availability_zone = forms.ChoiceField(required=False, label="Availability zone")

    def __init__(self, *args, projects=(), is_admin: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["volume_type"].queryset = VolumeType.usable_by(
            [project.pk for project in projects], is_admin
        )
        self.fields["availability_zone"].choices = zone_choices()
        default = VolumeType.objects.filter(name=settings.DEFAULT_VOLUME_TYPE).first()
        if default is not None:
            self.fields["volume_type"].initial = default.name


class DisableForm(forms.Form):
    reason = forms.CharField(max_length=255, strip=True)
