"""The image catalog: only the cloud admin publishes to everyone, and uploads have a limit."""

import uuid

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from core.cinder.models import Image
from tests.conftest import make_user
from volumes.images import images_dir


def upload(user, visibility: str = "private", size: int = 4096, name: str | None = None):
    client = Client()
    client.force_login(user)
    name = name or f"img-{uuid.uuid4().hex[:6]}"
    data = {
        "name": name,
        "disk_format": "raw",
        "min_disk": 0,
        "visibility": visibility,
        "file": SimpleUploadedFile(f"{name}.raw", b"\0" * size),
    }
    return name, client.post("/volumes/images/", data)


def test_a_member_cannot_publish_an_image_to_everyone(world):
    name, response = upload(world.owner, visibility="public")

    assert response.status_code == 200  # the form again, with the error
    assert "Select a valid choice" in response.content.decode()
    assert not Image.objects.filter(name=name).exists()


def test_the_cloud_admin_publishes_an_image_to_everyone(world):
    admin = make_user(f"root-{uuid.uuid4().hex[:6]}", world.project, is_superuser=True)

    name, response = upload(admin, visibility="public")

    assert response.status_code == 302
    assert Image.objects.get(name=name).visibility == "public"


def test_an_upload_past_the_limit_is_stopped_and_leaves_nothing(world, settings, tmp_path):
    settings.IMAGE_UPLOAD_MAX_BYTES = 1024**2
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)  # where a large upload would be spooled
    files_before = set(images_dir().iterdir())

    name, response = upload(world.owner, size=3 * 1024**2)

    assert response.status_code == 200
    assert f"The image is larger than {1024**2} bytes." in response.content.decode()
    assert not Image.objects.filter(name=name).exists()
    assert set(images_dir().iterdir()) == files_before
    assert list(tmp_path.iterdir()) == []  # the part received was thrown away
