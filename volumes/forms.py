from django import forms
from django.conf import settings

from core.cinder.models import DISK_FORMATS, Image, Snapshot, Volume, VolumeType
from core.kernel.pace import PACES
from volumes.flows import availability_zones

MAX_SIZE = 2147483647
GiB = 1024**3
# Horizon's "Volume Source" choices; each source appears only if something can be used.
NO_SOURCE = ("", "No source, empty volume")
SOURCES = [
    ("snapshot_source", "Snapshot"),
    ("image_source", "Image"),
    ("volume_source", "Volume"),
]


def _size_text(size_bytes: int | None) -> str:
    size = size_bytes or 0
    return f"{size / GiB:.1f} GiB" if size >= GiB else f"{size / 1024**2:.1f} MiB"


class VolumeCreateForm(forms.Form):
    """Horizon's CreateForm: a source selector, with the size prefilled and checked."""

    name = forms.CharField(max_length=255, required=False, strip=True)
    description = forms.CharField(
        max_length=255, required=False, strip=True, widget=forms.Textarea(attrs={"rows": 2})
    )
    volume_source_type = forms.ChoiceField(label="Volume Source", required=False)
    snapshot_source = forms.ChoiceField(label="Use snapshot as a source", required=False)
    image_source = forms.ChoiceField(label="Use image as a source", required=False)
    volume_source = forms.ChoiceField(label="Use a volume as source", required=False)
    size = forms.IntegerField(
        min_value=1, max_value=MAX_SIZE, initial=1, label="Size (GiB)", required=False
    )
    volume_type = forms.ModelChoiceField(
        queryset=VolumeType.objects.none(),  # the types the project may use: see __init__
        to_field_name="name",
        empty_label=None,
        label="Type",
    )
    availability_zone = forms.ChoiceField(label="Availability zone")
    pace = forms.ChoiceField(
        choices=PACES,
        initial="real",
        required=False,
        label="Pace",
        help_text="Teaching holds each task about a second so you can watch it (not Cinder's"
        " timing).",
    )

    def __init__(self, *args, project=None, is_admin: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["volume_type"].queryset = VolumeType.usable_by(
            project.pk if project else None, is_admin
        )
        zones = sorted(availability_zones())
        self.fields["availability_zone"].choices = [(z, z) for z in zones]
        self.fields["availability_zone"].initial = settings.DEFAULT_AVAILABILITY_ZONE
        default = VolumeType.objects.filter(name=settings.DEFAULT_VOLUME_TYPE).first()
        if default:
            self.fields["volume_type"].initial = default.name
        self.sources = self._sources(project)
        choices = [NO_SOURCE]
        for key, label in SOURCES:
            if self.sources[key]:
                choices.append((key, label))
                self.fields[key].choices = [
                    (str(obj.pk), text) for obj, text, _ in self.sources[key]
                ]
        self.fields["volume_source_type"].choices = choices
        # data-size on each option lets the page prefill the size (see create.html).
        self.source_sizes = {
            key: {str(obj.pk): size for obj, _, size in items}
            for key, items in self.sources.items()
        }
        self._size_from_source()
        # What each type is, beside the choice: its description and the extra specs this
        # user may see (Cinder shows non-admins only a few).
        self.type_info = [
            {
                "name": vtype.name,
                "description": vtype.description,
                "specs": vtype.visible_extra_specs(is_admin),
            }
            for vtype in self.fields["volume_type"].queryset
        ]

    def _size_from_source(self) -> None:
        """A source chosen by the link (``?snapshot_id=``) sets the size, as Horizon's form:
        at least the source's size, so the first submit is not refused."""
        kind = self.initial.get("volume_source_type")
        minimum = self.source_sizes.get(kind, {}).get(str(self.initial.get(kind)))
        if minimum:
            self.initial["size"] = minimum
            self.fields["size"].widget.attrs["min"] = minimum

    @staticmethod
    def _sources(project) -> dict[str, list]:
        if project is None:
            return {key: [] for key, _ in SOURCES}
        snapshots = Snapshot.objects.filter(project=project, status="available")
        volumes = Volume.objects.filter(project=project, status__in=("available", "in-use"))
        images = [i for i in Image.objects.filter(status="active") if i.usable_by(project.pk)]
        return {
            "snapshot_source": [
                (s, f"{s.display_name or s.id} ({s.volume_size} GiB)", s.volume_size)
                for s in snapshots
            ],
            "image_source": [
                (i, f"{i.name or i.id} ({_size_text(i.size)})", i.size_gb) for i in images
            ],
            "volume_source": [
                (v, f"{v.display_name or v.id} ({v.size} GiB)", v.size) for v in volumes
            ],
        }

    def clean(self):
        data = super().clean()
        kind = data.get("volume_source_type") or ""
        data["source"] = {}
        if not kind:
            if data.get("size") is None and "size" not in self.errors:
                self.add_error("size", "This field is required.")
            return data
        chosen = data.get(kind)
        if not chosen:
            self.add_error(kind, "Choose a source.")
            return data
        item = next((i for i in self.sources[kind] if str(i[0].pk) == chosen), None)
        if item is None:
            self.add_error(kind, "That source is no longer available.")
            return data
        obj, _, minimum = item
        size = data.get("size") or minimum
        data["size"] = size
        what = {
            "snapshot_source": f"the snapshot size ({minimum}GiB)",
            "volume_source": f"the source volume size ({minimum}GiB)",
            "image_source": f"the image size ({minimum}GiB)",
        }[kind]
        if kind == "image_source" and obj.min_disk and size < obj.min_disk:
            self.add_error(
                "size",
                f"The volume size cannot be less than the image minimum disk size "
                f"({obj.min_disk}GiB)",
            )
        elif size < minimum:
            self.add_error("size", f"The volume size cannot be less than {what}")
        key = {
            "snapshot_source": "snapshot_id",
            "volume_source": "source_volid",
            "image_source": "image_id",
        }[kind]
        data["source"] = {key: str(obj.pk)}
        return data


class SnapshotCreateForm(forms.Form):
    name = forms.CharField(max_length=255, required=False, strip=True)
    description = forms.CharField(max_length=255, required=False, strip=True)


class ImageUploadForm(forms.Form):
    name = forms.CharField(max_length=255, strip=True)
    disk_format = forms.ChoiceField(choices=[(f, f) for f in DISK_FORMATS], initial="raw")
    min_disk = forms.IntegerField(min_value=0, initial=0, label="Minimum disk (GiB)")
    visibility = forms.ChoiceField(
        choices=[("private", "private (this project)"), ("public", "public")], initial="private"
    )
    file = forms.FileField()

    def __init__(self, *args, is_admin: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not is_admin:  # as Glance: only the cloud admin publishes images to everyone
            self.fields["visibility"].choices = [("private", "private (this project)")]


_HOST_NAME = r"^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$"


class AttachForm(forms.Form):
    """Manage attachments: a pretend server (by name) on a compute host."""

    server = forms.RegexField(regex=_HOST_NAME, max_length=63, label="Server name")
    host = forms.RegexField(regex=_HOST_NAME, max_length=63, initial="compute-1")
    mode = forms.ChoiceField(choices=[("rw", "read/write"), ("ro", "read-only")], initial="rw")
