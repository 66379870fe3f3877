"""The scheduler's view of the fleet: who may be chosen, why not, and the PoolState cache."""

import pytest

from scheduler import host_manager
from tests.scheduler_integration.support import backend, lvm_caps

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_fleet():
    from core.kernel.models import Service
    from scheduler.models import Pool

    Pool.objects.all().delete()
    Service.objects.filter(binary="cinder-volume").delete()
    host_manager.clear_cache()
    yield
    host_manager.clear_cache()


def test_pools_of_up_enabled_backends_are_usable():
    name = backend("h1@lvm", lvm_caps(100, 80))

    usable, excluded = host_manager.pool_states()

    assert [p.name for p in usable] == [name] and excluded == {}
    assert usable[0].availability_zone == "nova"


def test_a_disabled_backend_is_left_out_with_its_reason():
    name = backend("h1@lvm", lvm_caps(100, 80), disabled_reason="firmware upgrade")

    usable, excluded = host_manager.pool_states()

    assert usable == []
    assert excluded == {name: "backend disabled: firmware upgrade"}


def test_a_backend_with_a_stale_heartbeat_is_down_and_left_out(settings):
    name = backend("h1@lvm", lvm_caps(100, 80), heartbeat_age=settings.SERVICE_DOWN_TIME + 30)

    usable, excluded = host_manager.pool_states()

    assert usable == []
    assert excluded[name].startswith("backend down: last heartbeat ")
    assert excluded[name].endswith(" s ago")


def test_a_backend_that_never_heartbeated_is_down():
    name = backend("h1@lvm", lvm_caps(100, 80), heartbeat_age=None)

    _, excluded = host_manager.pool_states()

    assert excluded == {name: "backend down: last heartbeat never"}


def test_an_unchanged_pool_reuses_its_pool_state_object():
    backend("h1@lvm", lvm_caps(100, 80))
    (first,), _ = host_manager.pool_states()
    first.capacity()  # memoised on the object

    (again,), _ = host_manager.pool_states()

    assert again is first


def test_consuming_capacity_gives_the_next_request_a_fresh_pool_state():
    name = backend("h1@lvm", lvm_caps(100, 80))
    (first,), _ = host_manager.pool_states()

    host_manager.consume(name, 10)
    (after,), _ = host_manager.pool_states()

    assert after is not first
    assert after.capabilities["free_capacity_gb"] == 70
    assert first.capabilities["free_capacity_gb"] == 80  # the old dict was never edited


def test_an_unchanged_report_keeps_the_cache_and_a_changed_one_replaces_it():
    from datetime import timedelta

    from django.utils import timezone

    from scheduler.models import Pool

    caps = lvm_caps(100, 80)
    name = backend("h1@lvm", caps)
    report = {k: v for k, v in caps.items()}
    report["pools"] = [{"pool_name": "lvm"}]
    later = timezone.now() + timedelta(seconds=1)
    host_manager.update_from_report("h1@lvm", "nova", report, later)
    (first,), _ = host_manager.pool_states()

    host_manager.update_from_report("h1@lvm", "nova", report, later + timedelta(seconds=1))
    (same,), _ = host_manager.pool_states()
    assert same is first
    assert Pool.objects.get(name=name).reported_at == later + timedelta(seconds=1)

    report["free_capacity_gb"] = 60
    host_manager.update_from_report("h1@lvm", "nova", report, later + timedelta(seconds=2))
    (changed,), _ = host_manager.pool_states()
    assert changed is not first and changed.capabilities["free_capacity_gb"] == 60
