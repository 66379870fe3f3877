"""Engine rules beyond reserve/commit: limit checks, drift detection, bar thresholds, wording."""

import pytest

from core.cinder import exceptions, quota
from core.cinder.models import Project, QuotaClass, QuotaLimit, QuotaUsage, VolumeType
from volumes.quota_bars import limit_bars, state_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    VolumeType.objects.get_or_create(name="__DEFAULT__")
    return Project.objects.create(name="quota-rules")


def test_a_limit_below_in_use_plus_reserved_is_refused_with_cinders_words(project):
    quota.commit(quota.reserve(project.pk, {"volumes": 2}))
    quota.reserve(project.pk, {"volumes": 1})
    with pytest.raises(exceptions.InvalidInput) as refused:
        quota.set_limit(project.pk, "volumes", 2)
    assert str(refused.value) == (
        "Invalid input received: Quota volumes limit must be equal or greater than existing "
        "resources. Current usage is 3 and the requested limit is 2."
    )
    quota.set_limit(project.pk, "volumes", 3)
    quota.set_limit(project.pk, "per_volume_gigabytes", 1)  # a simple limit: no usage check
    assert quota.get_limits(project.pk)["volumes"] == 3


def test_unknown_resources_and_out_of_range_limits_are_refused(project):
    with pytest.raises(exceptions.InvalidInput, match="Bad key"):
        quota.set_limit(project.pk, "bananas", 3)
    with pytest.raises(exceptions.InvalidInput, match="between -1 and 2147483647"):
        quota.set_limit(project.pk, "volumes", -2)
    assert not QuotaLimit.objects.filter(project=project).exists()


def test_a_project_limit_beats_the_default_class_which_beats_the_built_in_default(project):
    assert quota.get_limits(project.pk)["volumes"] == 10
    QuotaClass.objects.create(resource="volumes", hard_limit=7)
    assert quota.get_limits(project.pk)["volumes"] == 7
    QuotaLimit.objects.create(project=project, resource="volumes", hard_limit=4)
    assert quota.get_limits(project.pk)["volumes"] == 4
    assert quota.get_limits(project.pk)["volumes___DEFAULT__"] == -1


def test_the_default_class_is_seeded_once_and_keeps_edits(project):
    assert quota.ensure_default_class() == len(quota.resource_names())
    QuotaClass.objects.filter(resource="gigabytes").update(hard_limit=50)
    assert quota.ensure_default_class() == 0
    assert quota.default_limits()["gigabytes"] == 50


def test_check_reports_a_leaked_reserved_count_and_sync_fixes_it(project):
    quota.reserve(project.pk, {"gigabytes": 5})
    QuotaUsage.objects.filter(project=project, resource="gigabytes").update(reserved=9)

    found = quota.check(project.pk)

    assert [d.describe() for d in found] == ["gigabytes: invalid reserved saved=9 actual=5"]
    quota.check(project.pk, sync=True)
    assert quota.check(project.pk) == []
    assert quota.usage_summary(project.pk)["gigabytes"]["reserved"] == 5


def test_the_over_quota_message_names_resource_limit_usage_and_request(project):
    QuotaLimit.objects.create(project=project, resource="gigabytes", hard_limit=10)
    quota.commit(quota.reserve(project.pk, {"gigabytes": 6}))
    quota.reserve(project.pk, {"gigabytes": 1})
    with pytest.raises(exceptions.VolumeSizeExceedsAvailableQuota) as refused:
        quota.reserve(project.pk, {"volumes": 1, "gigabytes": 4})
    assert quota.over_quota_message(refused.value) == (
        "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed "
        "gigabytes quota. Requested 4G, quota is 10G and 7G has been consumed. "
        "(gigabytes: limit 10 GiB, 6 GiB in use, 1 GiB reserved, 4 GiB requested)"
    )


@pytest.mark.parametrize(
    ("limit", "total", "state"),
    [
        (-1, 10**6, "ok"),
        (10, 7, "ok"),
        (10, 8, "warning"),
        (20, 19, "danger"),
        (10, 10, "danger"),
        (10, 11, "exceeded"),
        (0, 0, "danger"),
        (0, 1, "exceeded"),
    ],
)
def test_bars_turn_amber_then_red_near_the_limit(limit, total, state):
    assert state_of(limit, total) == state


def test_bars_count_reserved_quota_so_two_requests_in_flight_both_show(project):
    QuotaLimit.objects.create(project=project, resource="volumes", hard_limit=2)
    quota.reserve(project.pk, {"volumes": 1})
    quota.reserve(project.pk, {"volumes": 1})

    picture = limit_bars(project.pk, size=1, volume_type="__DEFAULT__")

    volumes = picture["bars"][0]
    assert (volumes.resource, volumes.in_use, volumes.reserved) == ("volumes", 0, 2)
    assert volumes.state == "exceeded" and not picture["fits"]
