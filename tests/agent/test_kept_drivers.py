"""An agent keeps each backend's driver and its flows between jobs, as a cinder-volume service
keeps its one driver; an edit to the backend counts from the next job."""

import threading
import uuid

import pytest

from agent import delete_flow
from agent.drivers import backend_config, driver_for, kept_flow
from agent.models import BackendConfig


@pytest.fixture
def backend(db, settings, tmp_path):
    settings.AGENT_DATA_DIR = tmp_path
    config = BackendConfig.objects.create(
        host=f"kept-{uuid.uuid4().hex[:8]}", backend_name="lvm", reserved_percentage=5
    )
    return config.service_host


def reported(host: str) -> dict:
    return driver_for(backend_config(host)).get_volume_stats(refresh=True)["pools"][0]


def delete_flow_of(host: str):
    driver = driver_for(backend_config(host))
    return kept_flow(driver, host, delete_flow.get_flow)


def test_jobs_share_a_backends_driver_and_flows_until_its_row_changes(backend):
    driver, flow = driver_for(backend_config(backend)), delete_flow_of(backend)

    assert driver_for(backend_config(backend)) is driver
    assert delete_flow_of(backend) is flow
    assert reported(backend)["reserved_percentage"] == 5

    BackendConfig.objects.filter(host=backend.split("@")[0]).update(reserved_percentage=20)

    assert reported(backend)["reserved_percentage"] == 20  # the next report says so
    assert driver_for(backend_config(backend)) is not driver
    assert delete_flow_of(backend) is not flow


def test_each_thread_keeps_its_own_driver(backend):
    config = backend_config(backend)
    mine = driver_for(config)
    theirs = []
    thread = threading.Thread(target=lambda: theirs.append(driver_for(config)))
    thread.start()
    thread.join()

    assert theirs and theirs[0] is not mine
    assert driver_for(config) is mine


def test_a_driver_not_kept_gets_a_new_flow_each_time(backend):
    driver = driver_for(backend_config(backend))
    BackendConfig.objects.filter(host=backend.split("@")[0]).update(reserved_percentage=7)
    driver_for(backend_config(backend))  # replaces the kept driver

    first = kept_flow(driver, backend, delete_flow.get_flow)
    again = kept_flow(driver, backend, delete_flow.get_flow)

    assert first is not again
