"""The quota engine: Cinder's reserve/commit/rollback/expire semantics."""

from datetime import timedelta

import pytest

from core.cinder import exceptions, quota
from core.cinder.models import Project, QuotaLimit, Reservation, VolumeType

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    VolumeType.objects.get_or_create(name="__DEFAULT__")
    return Project.objects.create(name="quota-test")


def usage(project, resource):
    row = quota.usage_summary(project.pk)[resource]
    return row["in_use"], row["reserved"]


def test_reserve_then_commit_moves_reserved_into_in_use(project):
    ids = quota.reserve(project.pk, {"volumes": 1, "gigabytes": 5})
    assert usage(project, "gigabytes") == (0, 5)
    quota.commit(ids)
    assert usage(project, "gigabytes") == (5, 0)
    assert usage(project, "volumes") == (1, 0)
    assert not Reservation.objects.filter(project=project).exists()


def test_rollback_gives_the_reservation_back_without_touching_in_use(project):
    quota.commit(quota.reserve(project.pk, {"volumes": 1}))
    ids = quota.reserve(project.pk, {"volumes": 1})
    quota.rollback(ids)
    assert usage(project, "volumes") == (1, 0)


def test_going_over_the_volume_limit_raises_volume_limit_exceeded(project):
    QuotaLimit.objects.create(project=project, resource="volumes", hard_limit=1)
    quota.commit(quota.reserve(project.pk, {"volumes": 1}))
    with pytest.raises(exceptions.VolumeLimitExceeded) as raised:
        quota.reserve(project.pk, {"volumes": 1, "gigabytes": 1})
    assert (
        str(raised.value) == "Maximum number of volumes allowed (1) exceeded for quota 'volumes'."
    )
    assert raised.value.code == 413


def test_gigabytes_wins_when_both_are_over(project):
    QuotaLimit.objects.create(project=project, resource="volumes", hard_limit=0)
    QuotaLimit.objects.create(project=project, resource="gigabytes", hard_limit=10)
    with pytest.raises(exceptions.VolumeSizeExceedsAvailableQuota) as raised:
        quota.reserve(project.pk, {"volumes": 1, "gigabytes": 20})
    assert str(raised.value) == (
        "Requested volume or snapshot exceeds allowed gigabytes quota. Requested 20G, "
        "quota is 10G and 0G has been consumed."
    )


def test_a_refused_reservation_leaves_nothing_behind(project):
    QuotaLimit.objects.create(project=project, resource="gigabytes", hard_limit=10)
    with pytest.raises(exceptions.QuotaError):
        quota.reserve(project.pk, {"volumes": 1, "gigabytes": 11})
    assert usage(project, "gigabytes") == (0, 0)
    assert usage(project, "volumes") == (0, 0)
    assert not Reservation.objects.filter(project=project).exists()


def test_per_volume_gigabytes_is_a_simple_limit(project):
    QuotaLimit.objects.create(project=project, resource="per_volume_gigabytes", hard_limit=5)
    with pytest.raises(exceptions.VolumeSizeExceedsLimit) as raised:
        quota.limit_check(project.pk, per_volume_gigabytes=6)
    assert str(raised.value) == "Requested volume size 6G is larger than maximum allowed limit 5G."


def test_per_type_resources_are_reserved_alongside_the_global_ones(project):
    deltas = quota.add_volume_type_opts({"volumes": 1, "gigabytes": 3}, "__DEFAULT__")
    quota.commit(quota.reserve(project.pk, deltas))
    assert usage(project, "volumes___DEFAULT__") == (1, 0)
    assert usage(project, "gigabytes___DEFAULT__") == (3, 0)


def test_expire_rolls_back_stale_reservations_only(project):
    stale = quota.reserve(project.pk, {"gigabytes": 4}, expire=timedelta(seconds=-1))
    fresh = quota.reserve(project.pk, {"gigabytes": 2})
    assert quota.expire() == 1
    assert usage(project, "gigabytes") == (0, 2)
    assert not Reservation.objects.filter(id__in=stale).exists()
    assert Reservation.objects.filter(id__in=fresh).count() == 1


def test_release_gives_usage_back_and_never_goes_below_zero(project):
    quota.commit(quota.reserve(project.pk, {"volumes": 1, "gigabytes": 2}))
    quota.release(project.pk, {"volumes": 1, "gigabytes": 5})
    assert usage(project, "gigabytes") == (0, 0)
    assert usage(project, "volumes") == (0, 0)
