"""The create form: a snapshot's link sets the size on the server, the demo image is a
source, and each type is described beside the choice (extra specs as the API shows them)."""

import re

from django.test import Client

from core.cinder.models import Image, Snapshot, VolumeType
from portal.management.commands.seed_demo import DEMO_IMAGE, demo_image_bytes
from tests.conftest import make_user
from tests.test_delete_rules import nowhere, volume_row


def page_for(user, path: str = "/volumes/create/") -> str:
    client = Client()
    client.force_login(user)
    return client.get(path).content.decode()


def test_a_snapshots_link_chooses_it_and_its_size(world):
    volume = volume_row(world, "available", nowhere())
    snapshot = Snapshot.objects.create(
        volume=volume,
        project=world.project,
        user=world.owner,
        volume_size=2,
        volume_type=volume.volume_type,
        status="available",
    )

    page = page_for(world.member, f"/volumes/create/?snapshot_id={snapshot.id}")

    size = re.search(r'<input[^>]*name="size"[^>]*>', page).group(0)
    assert 'value="2"' in size and 'min="2"' in size
    assert re.search(r'<option value="snapshot_source" selected>', page)
    assert re.search(rf'<option value="{snapshot.id}" selected>', page)


def test_the_demo_image_is_seeded_public_and_offered_as_a_source(world):
    image = Image.objects.get(name=DEMO_IMAGE)
    assert (image.status, image.visibility, image.disk_format) == ("active", "public", "raw")
    assert image.path.read_bytes() == demo_image_bytes()

    page = page_for(world.member)

    assert '<option value="image_source">Image</option>' in page
    assert f'<option value="{image.id}">{DEMO_IMAGE} (1.0 MiB)</option>' in page


def test_each_type_is_described_with_the_extra_specs_the_user_may_see(world):
    gold = VolumeType.objects.get(name="gold")
    admin = make_user(f"root-{world.project.name}", world.project, is_superuser=True)

    member_info = re.search(r'<p data-type-info="gold"[^>]*>.*?</p>', page_for(world.member))
    admin_info = re.search(r'<p data-type-info="gold"[^>]*>.*?</p>', page_for(admin))

    assert gold.description in member_info.group(0)
    assert "capabilities:storage_tier" not in member_info.group(0)  # Cinder hides it from members
    assert "<code>capabilities:storage_tier=gold</code>" in admin_info.group(0)
    assert " hidden>" in member_info.group(0)  # only the chosen type's is shown
