"""Forty creates racing for five slots: exactly five win, on SQLite and on PostgreSQL."""

import pytest

from core.cinder import exceptions, quota
from core.cinder.models import Reservation, Volume
from core.kernel.models import FlowRun
from tests.quota.helpers import create_concurrently, limit, usage

pytestmark = pytest.mark.integration

RACERS = 40


def test_forty_creates_against_a_volumes_limit_of_five_make_exactly_five_volumes(world):
    limit(world.project, "volumes", 5)

    outcome = create_concurrently(world, RACERS, size=1)

    assert outcome.failed == []
    assert len(outcome.created) == 5
    assert len(outcome.refused) == RACERS - 5
    assert all(type(e) is exceptions.VolumeLimitExceeded for e in outcome.refused)
    assert str(outcome.refused[0]) == (
        "Maximum number of volumes allowed (5) exceeded for quota 'volumes'."
    )
    assert Volume.objects.filter(project=world.project).count() == 5
    assert usage(world.project, "volumes") == (5, 0)
    assert usage(world.project, "gigabytes") == (5, 0)
    assert usage(world.project, "volumes___DEFAULT__") == (5, 0)
    assert not Reservation.objects.filter(project=world.project).exists()
    # The refused requests left no flow record either; the usage matches the volumes.
    assert FlowRun.objects.filter(project_id=world.project.pk, flow="api").count() == 5
    assert quota.check(world.project.pk) == []


def test_forty_creates_against_a_gigabytes_limit_admit_only_what_fits(world):
    limit(world.project, "gigabytes", 10)

    outcome = create_concurrently(world, RACERS, size=2)

    assert outcome.failed == []
    assert len(outcome.created) == 5
    assert len(outcome.refused) == RACERS - 5
    assert all(type(e) is exceptions.VolumeSizeExceedsAvailableQuota for e in outcome.refused)
    assert str(outcome.refused[0]) == (
        "Requested volume or snapshot exceeds allowed gigabytes quota. "
        "Requested 2G, quota is 10G and 10G has been consumed."
    )
    assert Volume.objects.filter(project=world.project).count() == 5
    assert usage(world.project, "gigabytes") == (10, 0)
    assert usage(world.project, "volumes") == (5, 0)
    assert not Reservation.objects.filter(project=world.project).exists()
    assert quota.check(world.project.pk) == []


def test_a_per_type_limit_is_enforced_alongside_the_global_ones(world):
    limit(world.project, "volumes_thin", 3)

    outcome = create_concurrently(world, 12, size=1, volume_type="thin")

    assert outcome.failed == []
    assert len(outcome.created) == 3
    assert {str(e) for e in outcome.refused} == {
        "Maximum number of volumes allowed (3) exceeded for quota 'volumes_thin'."
    }
    assert usage(world.project, "volumes_thin") == (3, 0)
    assert usage(world.project, "volumes") == (3, 0)
