"""The forms of the volume page's change type and migrate actions."""

from django import forms

from core.cinder.models import VolumeType


class RetypeForm(forms.Form):
    """Horizon's "Change Volume Type": the new type, and whether it may migrate."""

    volume_type = forms.ModelChoiceField(queryset=VolumeType.objects.none(), label="New type")
    migration_policy = forms.ChoiceField(
        choices=[("never", "Never"), ("on-demand", "On demand")],
        initial="never",
        help_text="On demand: if the volume's backend cannot hold the new type, the volume "
        "is migrated to one that can.",
    )

    def __init__(self, *args, volume, is_admin: bool, **kwargs):
        super().__init__(*args, **kwargs)
        usable = VolumeType.usable_by(str(volume.project_id), is_admin)
        self.fields["volume_type"].queryset = usable.exclude(id=volume.volume_type_id)


class MigrateForm(forms.Form):
    """Horizon's admin "Migrate Volume": a destination pool and the two flags."""

    host = forms.ChoiceField(label="Destination pool")
    force_host_copy = forms.BooleanField(
        required=False, help_text="Skip the driver's own migration and copy through the host."
    )
    lock_volume = forms.BooleanField(
        required=False,
        help_text="An available volume goes to maintenance for the migration: nothing else "
        "may act on it meanwhile.",
    )

    def __init__(self, *args, volume, pools: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["host"].choices = [(p, p) for p in sorted(pools) if p != volume.host]
