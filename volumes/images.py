"""The image catalog (Glance's part): uploads land under ``VAR_DIR/images``.

An upload is a row (``queued`` -> ``saving`` -> ``active``) and a file; if writing
the file fails, both go, so a failed upload leaves nothing half-written.
"""

import hashlib

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.db import transaction

from core.cinder.models import Image

QCOW2_MAGIC = b"QFI\xfb"


class SizeLimit(FileUploadHandler):
    """Counts an upload as it streams in and stops it past ``bytes``: nothing more is read,
    and the part already received is thrown away."""

    def __init__(self, request, limit: int) -> None:
        super().__init__(request)
        self.bytes = limit
        self.exceeded = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > self.bytes:
            self.exceeded = True
            raise StopUpload(connection_reset=True)
        return raw_data  # on to the handler that stores it

    def file_complete(self, file_size: int) -> None:
        return None


def images_dir():
    path = settings.VAR_DIR / "images"
    path.mkdir(parents=True, exist_ok=True)
    return path


def virtual_size(path) -> int:
    """qcow2 says its virtual size in its header; a raw image is as big as its file."""
    with open(path, "rb") as image:
        header = image.read(32)
    if header[:4] == QCOW2_MAGIC and len(header) >= 32:
        return int.from_bytes(header[24:32], "big")
    return path.stat().st_size


def upload(
    uploaded,
    *,
    name: str,
    disk_format: str = "raw",
    min_disk: int = 0,
    owner=None,
    visibility: str = "private",
) -> Image:
    """Store an uploaded file (a Django UploadedFile or any object with ``chunks()``)."""
    image = Image.objects.create(
        name=name,
        owner=owner,
        visibility=visibility,
        disk_format=disk_format,
        min_disk=min_disk,
        status="saving",
    )
    path = images_dir() / f"{image.id}.{disk_format}"
    digest, size = hashlib.md5(usedforsecurity=False), 0
    try:
        with open(path, "wb") as out:
            for chunk in uploaded.chunks():
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
        with transaction.atomic():
            image.file = path.name
            image.size = size
            image.virtual_size = virtual_size(path)
            image.checksum = digest.hexdigest()
            image.status = "active"
            image.save()
    except BaseException:
        path.unlink(missing_ok=True)
        image.delete()
        raise
    return image
