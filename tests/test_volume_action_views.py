"""The volume page's actions: extend, delete with confirmation, admin status and force delete."""

from django.urls import reverse

from core.cinder.models import Volume
from tests.test_agent_views import client_for, volume_of


def test_the_actions_follow_the_status_and_the_viewer(world, admin_user):
    volume = volume_of(world)
    page = client_for(world.owner).get(reverse("volumes:detail", args=[volume.id])).content
    assert b'href="/volumes/%s/extend/"' % str(volume.id).encode() in page
    assert b"action-reset-status" not in page and b"action-force-delete" not in page
    as_admin = client_for(admin_user).get(reverse("volumes:detail", args=[volume.id])).content
    assert b"action-reset-status" in as_admin and b"action-force-delete" in as_admin

    Volume.objects.filter(id=volume.id).update(status="creating")
    page = client_for(world.owner).get(reverse("volumes:detail", args=[volume.id])).content
    assert b'<span class="disabled" id="action-extend"' in page
    assert b'<span class="disabled" id="action-delete"' in page


def test_extend_from_the_page_claims_the_volume_and_says_so(world):
    volume = volume_of(world, size=2)
    client = client_for(world.owner)
    url = reverse("volumes:extend", args=[volume.id])
    refused = client.post(url, {"new_size": 2})
    assert refused.status_code == 200
    assert "Ensure this value is greater than or equal to 3" in refused.content.decode()
    volume.refresh_from_db()
    assert volume.status == "available"

    done = client.post(url, {"new_size": 4}, follow=True)
    assert "is being extended to 4 GiB" in done.content.decode()
    volume.refresh_from_db()
    # Claimed (a running scheduler may already have refused the made-up host since).
    assert volume.previous_status == "available"


def test_extend_over_quota_says_which_limit(world):
    from core.cinder.models import QuotaLimit

    QuotaLimit.objects.create(project=world.project, resource="gigabytes", hard_limit=3)
    volume = volume_of(world, size=2)
    answer = client_for(world.owner).post(
        reverse("volumes:extend", args=[volume.id]), {"new_size": 10}
    )
    assert answer.status_code == 200
    assert "VolumeSizeExceedsAvailableQuota" in answer.content.decode()
    volume.refresh_from_db()
    assert volume.status == "available"


def test_admin_tools_are_refused_to_members(world):
    volume = volume_of(world, status="error")
    member = client_for(world.member)
    for name in ("volumes:reset-status", "volumes:force-delete"):
        assert member.get(reverse(name, args=[volume.id])).status_code == 403
        assert (
            member.post(reverse(name, args=[volume.id]), {"status": "available"}).status_code == 403
        )
    volume.refresh_from_db()
    assert volume.status == "error"


def test_an_admin_updates_a_stuck_volumes_status(world, admin_user):
    volume = volume_of(world, status="extending")
    admin = client_for(admin_user)
    url = reverse("volumes:reset-status", args=[volume.id])
    bad = admin.post(url, {"status": "deleting"})
    assert "Cannot reset-state to deleting" in bad.content.decode()
    done = admin.post(url, {"status": "available"}, follow=True)
    assert "reset: status available" in done.content.decode()
    volume.refresh_from_db()
    assert volume.status == "available"
