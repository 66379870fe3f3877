from django import forms
from django.conf import settings

from volumes.flows import availability_zones
from volumes.models import VolumeType

MAX_SIZE = 2147483647


class VolumeCreateForm(forms.Form):
    name = forms.CharField(max_length=255, required=False, strip=True)
    description = forms.CharField(
        max_length=255, required=False, strip=True, widget=forms.Textarea(attrs={"rows": 2})
    )
    size = forms.IntegerField(min_value=1, max_value=MAX_SIZE, initial=1, label="Size (GiB)")
    volume_type = forms.ModelChoiceField(
        queryset=VolumeType.objects.filter(is_public=True),
        to_field_name="name",
        empty_label=None,
        label="Type",
    )
    availability_zone = forms.ChoiceField(label="Availability zone")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zones = sorted(availability_zones())
        self.fields["availability_zone"].choices = [(z, z) for z in zones]
        self.fields["availability_zone"].initial = settings.DEFAULT_AVAILABILITY_ZONE
        default = VolumeType.objects.filter(name=settings.DEFAULT_VOLUME_TYPE).first()
        if default:
            self.fields["volume_type"].initial = default.name
