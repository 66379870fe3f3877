"""``manage.py seed_demo``: the demo cloud, idempotent.

Project ``demo`` (a Keystone-style id), users ``demo`` and ``admin``, three
LVM backends on two hosts across zones ``nova`` and ``az2``, three volume
types, and a tiny public raw image (so the create form's Image source has one).
Passwords come from CINDERLAB_DEMO_PASSWORD / CINDERLAB_ADMIN_PASSWORD, or are
generated, printed once, and kept in ``var/demo-credentials`` (0600).
"""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import transaction

from agent.models import BackendConfig
from core.cinder.models import Image, Membership, Project, VolumeType, VolumeTypeExtraSpec
from core.kernel.env import envstr
from volumes import images

BACKENDS = [
    # host, backend, volume_backend_name, zone, lvm_type, VG GiB, extra capabilities
    ("node1", "lvm-thick", "LVM_thick", "nova", "default", 100, {"storage_tier": "silver"}),
    ("node1", "lvm-thin", "LVM_thin", "nova", "thin", 200, {"storage_tier": "silver"}),
    ("node2", "lvm-gold", "LVM_gold", "az2", "default", 60, {"storage_tier": "gold"}),
]
VOLUME_TYPES = [
    ("__DEFAULT__", "Default Volume Type", {}),
    ("thin", "Thin-provisioned LVM", {"provisioning:type": "thin"}),
    ("gold", "Gold tier (selected by capability)", {"capabilities:storage_tier": "gold"}),
]
DEMO_IMAGE = "demo-raw-1MiB"


def demo_image_bytes() -> bytes:
    """A 1 MiB raw disk that says what it is in its first sector."""
    return b"Cinderlab demo image: 1 MiB of raw disk.\n".ljust(2**20, b"\0")


class Command(BaseCommand):
    help = "Create the demo cloud (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        project, _ = Project.objects.get_or_create(
            name="demo", defaults={"description": "The demo project"}
        )
        created = {}
        created["demo"] = self._user("demo", "CINDERLAB_DEMO_PASSWORD", superuser=False)
        created["admin"] = self._user("admin", "CINDERLAB_ADMIN_PASSWORD", superuser=True)
        User = get_user_model()
        Membership.objects.get_or_create(user=User.objects.get(username="demo"), project=project)
        Membership.objects.get_or_create(
            user=User.objects.get(username="admin"), project=project, defaults={"role": "admin"}
        )
        for host, backend, vbn, zone, lvm_type, size, extra in BACKENDS:
            BackendConfig.objects.get_or_create(
                host=host,
                backend_name=backend,
                defaults=dict(
                    volume_backend_name=vbn,
                    availability_zone=zone,
                    lvm_type=lvm_type,
                    vg_size_gb=size,
                    extra_capabilities=extra,
                ),
            )
        for name, description, specs in VOLUME_TYPES:
            vtype, _ = VolumeType.objects.get_or_create(
                name=name, defaults={"description": description}
            )
            for key, value in specs.items():
                VolumeTypeExtraSpec.objects.get_or_create(
                    volume_type=vtype, key=key, defaults={"value": value}
                )
        self._image()
        self._report(project, created)

    def _image(self) -> None:
        """The demo image, uploaded as an admin would (public); again if its file is gone."""
        for image in Image.objects.filter(name=DEMO_IMAGE):
            if image.status == "active" and image.path and image.path.exists():
                return
            image.delete()
        images.upload(
            ContentFile(demo_image_bytes()), name=DEMO_IMAGE, disk_format="raw", visibility="public"
        )

    def _user(self, username: str, env: str, superuser: bool) -> str | None:
        """Create the user if missing; returns a generated password, if one was made."""
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        wanted = envstr(env)
        if user is not None:
            if wanted and not user.check_password(wanted):
                user.set_password(wanted)
                user.save(update_fields=["password"])
            return None
        password = wanted or secrets.token_urlsafe(12)
        if superuser:
            User.objects.create_superuser(username, f"{username}@cinderlab.invalid", password)
        else:
            User.objects.create_user(username, f"{username}@cinderlab.invalid", password)
        return None if wanted else password

    def _report(self, project: Project, created: dict) -> None:
        generated = {name: pw for name, pw in created.items() if pw}
        self.stdout.write(
            f"Demo cloud ready: project demo ({project.pk}), "
            f"{len(BACKENDS)} backends, {len(VOLUME_TYPES)} volume types, image {DEMO_IMAGE}."
        )
        if generated:
            path = settings.VAR_DIR / "demo-credentials"
            lines = [f"{name} {password}" for name, password in generated.items()]
            path.write_text("\n".join(lines) + "\n")
            path.chmod(0o600)
            for name, password in generated.items():
                self.stdout.write(
                    self.style.WARNING(f"  generated password for {name}: {password}")
                )
            self.stdout.write(
                f"  (kept in {path}; set CINDERLAB_DEMO_PASSWORD / "
                "CINDERLAB_ADMIN_PASSWORD to choose your own)"
            )
