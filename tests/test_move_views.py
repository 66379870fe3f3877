"""The volume page's revert to snapshot, change type and (admins) migrate actions: what is
offered follows the status and the viewer, and each goes through the API's own checks."""

import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from core.cinder import quota
from core.cinder.models import Membership, Snapshot, Volume, VolumeType
from core.kernel.models import Service
from scheduler.models import Pool
from tests.conftest import make_user
from tests.test_agent_views import client_for, volume_of


def snapshot_of(volume, minutes_ago: int = 0) -> Snapshot:
    return Snapshot.objects.create(
        volume=volume,
        project=volume.project,
        user=volume.user,
        status="available",
        volume_size=volume.size,
        volume_type=volume.volume_type,
        created_at=timezone.now() - timezone.timedelta(minutes=minutes_ago),
    )


def page(user, volume) -> str:
    return client_for(user).get(reverse("volumes:detail", args=[volume.id])).content.decode()


@pytest.fixture
def reader(world):
    user = make_user(f"reader-{uuid.uuid4().hex[:6]}")
    Membership.objects.create(user=user, project=world.project, role="reader")
    return user


def test_the_actions_follow_the_status_snapshots_and_viewer(world, admin_user):
    volume = volume_of(world)
    shown = page(world.owner, volume)
    assert '<span class="disabled" id="action-revert"' in shown  # no snapshot yet
    assert f'href="/volumes/{volume.id}/retype/"' in shown
    assert "action-migrate" not in shown
    assert f'href="/volumes/{volume.id}/migrate/"' in page(admin_user, volume)

    snapshot_of(volume)
    shown = page(world.owner, volume)
    assert f'href="/volumes/{volume.id}/revert/"' in shown
    assert '<span class="disabled" id="action-migrate"' in page(admin_user, volume)

    Volume.objects.filter(id=volume.id).update(status="extending")
    shown = page(world.owner, volume)
    assert '<span class="disabled" id="action-revert"' in shown
    assert '<span class="disabled" id="action-retype"' in shown


def test_revert_offers_only_the_latest_snapshot_and_claims_both(world):
    volume = volume_of(world)
    older, latest = snapshot_of(volume, minutes_ago=5), snapshot_of(volume)
    client = client_for(world.owner)
    url = reverse("volumes:revert", args=[volume.id])
    form = client.get(url).content.decode()
    assert f'value="{latest.id}" checked' in form and "not the latest" in form
    assert f'value="{older.id}"' not in form

    stale = client.post(url, {"snapshot_id": str(older.id)})
    assert "is None or not the latest one" in stale.content.decode()
    volume.refresh_from_db()
    assert volume.status == "available"

    done = client.post(url, {"snapshot_id": str(latest.id)}, follow=True)
    assert "is being reverted to" in done.content.decode()
    volume.refresh_from_db()
    latest.refresh_from_db()
    assert volume.status == "reverting" and latest.status == "restoring"


def test_change_type_reserves_the_new_types_quota_and_claims_retyping(world):
    volume = volume_of(world)
    client = client_for(world.owner)
    url = reverse("volumes:retype", args=[volume.id])
    form = client.get(url).content.decode()
    assert 'value="on-demand"' in form
    assert f'<option value="{volume.volume_type_id}"' not in form  # the current type

    thin = VolumeType.objects.get(name="thin")
    same = client.post(
        url, {"volume_type": str(volume.volume_type_id), "migration_policy": "never"}
    )
    assert "Select a valid choice" in same.content.decode()

    done = client.post(
        url, {"volume_type": str(thin.id), "migration_policy": "on-demand"}, follow=True
    )
    assert "is changing type to thin" in done.content.decode()
    volume.refresh_from_db()
    assert volume.status == "retyping" and volume.previous_status == "available"
    usage = quota.usage_summary(str(world.project.pk))
    assert usage["volumes_thin"]["reserved"] == 1
    assert usage["gigabytes_thin"]["reserved"] == volume.size


def test_a_reader_may_neither_revert_nor_change_type(world, reader):
    volume = volume_of(world)
    snapshot_of(volume)
    client = client_for(reader)
    for name in ("volumes:revert", "volumes:retype"):
        assert client.get(reverse(name, args=[volume.id])).status_code == 403
        assert client.post(reverse(name, args=[volume.id]), {}).status_code == 403
    volume.refresh_from_db()
    assert volume.status == "available"


def test_migrate_is_for_admins_and_offers_the_other_pools(world, admin_user):
    volume = volume_of(world)
    member = client_for(world.member)
    url = reverse("volumes:migrate", args=[volume.id])
    assert member.get(url).status_code == 403
    assert member.post(url, {"host": "x"}).status_code == 403

    backend = f"elsewhere-{uuid.uuid4().hex[:8]}@lvm"
    Service.objects.create(binary="cinder-volume", host=backend, heartbeat_at=timezone.now())
    Pool.objects.create(name=f"{backend}#pool", host=backend)
    admin = client_for(admin_user)
    form = admin.get(url).content.decode()
    assert f'<option value="{backend}#pool"' in form
    assert f'<option value="{volume.host}"' not in form

    done = admin.post(url, {"host": f"{backend}#pool", "lock_volume": "on"}, follow=True)
    assert f"is migrating to {backend}#pool" in done.content.decode()
    volume.refresh_from_db()
    assert volume.previous_status == "available"
    # The API locked the volume for the migration. A scheduler still running from earlier
    # tests may already have refused the made-up pool (it reports no capacity), which ends
    # the migration in error and unlocks the volume: either is the API having done its part.
    assert (volume.migration_status, volume.status) in {
        ("starting", "maintenance"),
        ("error", "available"),
    }
