"""The pages this issue adds: delete, snapshots, the image catalog, the Backends page."""

import uuid

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from agent.models import BackendConfig, Fault
from core.cinder.models import Image, Volume, VolumeType
from tests.conftest import PASSWORD


def client_for(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def volume_of(world, status="available", size=2) -> Volume:
    return Volume.objects.create(
        project=world.project,
        user=world.owner,
        size=size,
        status=status,
        volume_type=VolumeType.default(),
        host=f"nowhere-{uuid.uuid4().hex[:8]}@lvm#lvm",
    )


def test_delete_asks_for_confirmation_first(world):
    volume = volume_of(world)
    response = client_for(world.owner).get(reverse("volumes:delete", args=[volume.id]))
    assert response.status_code == 200
    assert "This cannot be undone" in response.content.decode()
    volume.refresh_from_db()
    assert volume.status == "available"


def test_delete_needs_a_csrf_token(world):
    volume = volume_of(world)
    client = client_for(world.owner, enforce_csrf_checks=True)
    response = client.post(reverse("volumes:delete", args=[volume.id]))
    assert response.status_code == 403
    volume.refresh_from_db()
    assert volume.status == "available"


def test_delete_is_not_found_for_outsiders(world):
    volume = volume_of(world)
    response = client_for(world.outsider).post(reverse("volumes:delete", args=[volume.id]))
    assert response.status_code == 404
    volume.refresh_from_db()
    assert volume.status == "available"


def test_a_member_deletes_a_volume_of_the_project(world):
    volume = volume_of(world)
    response = client_for(world.member).post(reverse("volumes:delete", args=[volume.id]))
    assert response.status_code == 302
    volume.refresh_from_db()
    assert volume.status == "deleting"


def test_a_refused_delete_says_why_on_the_volume_page(world):
    volume = volume_of(world, status="creating")
    response = client_for(world.owner).post(
        reverse("volumes:delete", args=[volume.id]), follow=True
    )
    assert "Volume status must be available or error" in response.content.decode()
    volume.refresh_from_db()
    assert volume.status == "creating"


def test_the_detail_page_offers_delete_and_snapshot(world):
    volume = volume_of(world)
    page = client_for(world.owner).get(reverse("volumes:detail", args=[volume.id])).content
    assert b'href="/volumes/%s/delete/"' % str(volume.id).encode() in page
    assert b'id="snapshot-submit"' in page


def test_the_create_form_offers_the_sources_that_exist(world):
    volume_of(world, size=2)
    page = client_for(world.owner).get(reverse("volumes:create")).content.decode()
    assert "No source, empty volume" in page
    assert '<option value="volume_source">Volume</option>' in page


def test_the_create_form_refuses_a_size_below_the_source(world):
    source = volume_of(world, size=2)
    response = client_for(world.owner).post(
        reverse("volumes:create"),
        {
            "volume_source_type": "volume_source",
            "volume_source": str(source.id),
            "size": 1,
            "volume_type": "__DEFAULT__",
            "availability_zone": "nova",
        },
    )
    assert response.status_code == 200
    assert "The volume size cannot be less than the source volume size (2GiB)" in (
        response.content.decode()
    )
    assert Volume.objects.filter(project=world.project).count() == 1


def test_an_uploaded_image_is_stored_and_listed(world, settings):
    data = b"raw disk bytes" * 1000
    response = client_for(world.owner).post(
        reverse("volumes:images"),
        {
            "name": f"img-{uuid.uuid4().hex[:6]}",
            "disk_format": "raw",
            "min_disk": 0,
            "visibility": "private",
            "file": SimpleUploadedFile("disk.raw", data),
        },
        follow=True,
    )
    image = Image.objects.get(owner=world.project)
    assert image.status == "active" and image.size == len(data)
    assert (settings.VAR_DIR / "images" / image.file).read_bytes() == data
    assert image.name in response.content.decode()
    outsider_page = client_for(world.outsider).get(reverse("volumes:images")).content.decode()
    assert image.name not in outsider_page  # private to its project


def test_members_neither_see_the_backends_page_nor_set_faults(world):
    backend = BackendConfig.objects.get(host="node1", backend_name="lvm-thick")
    client = client_for(world.member)
    assert client.get(reverse("agent:backends")).status_code == 403
    response = client.post(
        reverse("agent:fault-add", args=[backend.pk]), {f"b{backend.pk}-operation": "create"}
    )
    assert response.status_code == 403


def test_an_admin_sets_and_clears_a_fault(world):
    admin = get_user_model().objects.create_user(
        f"root-{uuid.uuid4().hex[:6]}", password=PASSWORD, is_superuser=True
    )
    backend = BackendConfig.objects.get(host="node1", backend_name="lvm-thin")
    client = client_for(admin)
    prefix = f"b{backend.pk}"
    client.post(
        reverse("agent:fault-add", args=[backend.pk]),
        {
            f"{prefix}-operation": "delete",
            f"{prefix}-fail_next": 2,
            f"{prefix}-probability": 0,
            f"{prefix}-latency_ms": 0,
        },
    )
    fault = Fault.objects.get(backend=backend, operation="delete", active=True)
    assert fault.fail_next == 2
    assert "fail next 2" in client.get(reverse("agent:backends")).content.decode()

    client.post(reverse("agent:fault-clear", args=[fault.pk]))

    fault.refresh_from_db()
    assert not fault.active
