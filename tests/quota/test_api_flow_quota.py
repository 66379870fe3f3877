"""Tempest's quota behaviour through the real API flow (volumes.api)."""

import pytest

from core.cinder import exceptions, quota
from core.cinder.models import Reservation, Volume
from core.kernel.models import FlowRun
from tests.quota.helpers import limit, usage
from tests.waiting import wait_until
from volumes import api

pytestmark = pytest.mark.integration


def create(world, **kwargs) -> Volume:
    return api.create(api.request_context(world.owner, world.project), **kwargs)


def delete_unless_creating(world, volume_id) -> bool:
    try:
        api.delete(api.request_context(world.owner, world.project), volume_id)
    except exceptions.InvalidVolume:
        assert Volume.objects.get(id=volume_id).status == "creating"
        return False
    return True


def test_a_create_raises_in_use_by_one_volume_and_by_its_size(world):
    create(world, size=1)
    before_volumes, before_gb = usage(world.project, "volumes"), usage(world.project, "gigabytes")

    create(world, size=3)

    assert usage(world.project, "volumes") == (before_volumes[0] + 1, 0)
    assert usage(world.project, "gigabytes") == (before_gb[0] + 3, 0)
    assert usage(world.project, "gigabytes___DEFAULT__") == (4, 0)


def test_at_the_limit_the_next_create_is_refused_and_leaves_nothing_behind(world):
    limit(world.project, "volumes", 2)
    kept = {create(world, size=1).id, create(world, size=1).id}

    with pytest.raises(exceptions.VolumeLimitExceeded) as refused:
        create(world, size=1, name="one too many")

    assert refused.value.code == 413
    assert str(refused.value) == (
        "Maximum number of volumes allowed (2) exceeded for quota 'volumes'."
    )
    assert not Volume.objects.filter(project=world.project, display_name="one too many").exists()
    assert Volume.objects.filter(project=world.project).count() == 2
    assert usage(world.project, "volumes") == (2, 0)
    assert usage(world.project, "gigabytes") == (2, 0)
    assert not Reservation.objects.filter(project=world.project).exists()
    # No flow record of the refused request: every run belongs to a kept volume. (The
    # kept volumes' own scheduler runs may appear meanwhile, from a worker of another test.)
    recorded = FlowRun.objects.filter(project_id=world.project.pk).values_list(
        "volume_id", flat=True
    )
    assert set(recorded) <= kept


def test_a_size_over_per_volume_gigabytes_is_refused_with_cinders_words(world):
    limit(world.project, "per_volume_gigabytes", 5)

    with pytest.raises(exceptions.VolumeSizeExceedsLimit) as refused:
        create(world, size=6)

    assert str(refused.value) == (
        "Requested volume size 6G is larger than maximum allowed limit 5G."
    )
    assert not Volume.objects.filter(project=world.project).exists()
    assert usage(world.project, "gigabytes") == (0, 0)


def test_an_error_volume_keeps_its_usage_until_deleted(world):
    volume = create(world, size=2)
    # As the scheduler leaves it when no backend fits.
    Volume.objects.filter(id=volume.id).update(status="error")

    assert usage(world.project, "gigabytes") == (2, 0)
    assert quota.check(world.project.pk) == []


def test_a_delete_lowers_usage(world):
    keep = create(world, size=1)
    gone = create(world, size=4)
    assert usage(world.project, "gigabytes") == (5, 0)

    # Unscheduled volumes go at once; a scheduled one is removed by its agent. A worker left
    # by another test may have scheduled it already: then, as in Cinder, it may not be
    # deleted while still creating, and the user tries again once it is available.
    wait_until(lambda: delete_unless_creating(world, gone.id), timeout=60, what="a delete allowed")
    wait_until(
        lambda: usage(world.project, "gigabytes") == (1, 0), timeout=60, what="usage to drop"
    )
    assert usage(world.project, "volumes") == (1, 0)
    assert usage(world.project, "gigabytes___DEFAULT__") == (1, 0)
    assert list(Volume.objects.filter(project=world.project)) == [keep]
