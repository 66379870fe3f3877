"""os-services, os-hosts, capabilities and extensions: what the services table holds, and
what an admin changes there (a disabled backend is skipped by the scheduler, a frozen
one refuses changes to its volumes)."""

import uuid

import pytest
from django.utils import timezone

from core.cinder.models import Volume, VolumeType
from core.kernel.models import Service
from scheduler.models import Pool


@pytest.fixture
def backend(live_db) -> Service:
    """A volume service on a host of its own, just heard from, with a pool report."""
    host = f"h{uuid.uuid4().hex[:6]}"
    service = Service.objects.create(
        binary="cinder-volume", host=f"{host}@lvm", availability_zone="nova",
        heartbeat_at=timezone.now(),
    )  # fmt: skip
    Pool.objects.create(
        name=f"{host}@lvm#lvm",
        host=f"{host}@lvm",
        capabilities={
            "volume_backend_name": "LVM_x",
            "vendor_name": "Open Source",
            "driver_version": "3.0.0",
            "storage_protocol": "iSCSI",
        },
    )
    yield service
    Pool.objects.filter(host=service.host).delete()
    service.delete()


def host_of(service: Service) -> str:
    return service.host.partition("@")[0]


def test_services_are_listed_and_filtered_by_host_and_binary(admin_api, backend):
    by_host = admin_api.get(f"/os-services?host={host_of(backend)}").json()["services"]
    by_both = admin_api.get(f"/os-services?host={backend.host}&binary=cinder-volume").json()
    wrong_binary = admin_api.get(f"/os-services?host={backend.host}&binary=cinder-scheduler")

    assert [s["host"] for s in by_host] == [backend.host]
    assert by_host[0]["state"] == "up" and by_host[0]["status"] == "enabled"
    assert by_host[0]["frozen"] is False and by_host[0]["backend_state"] == "up"
    assert [s["host"] for s in by_both["services"]] == [backend.host]
    assert wrong_binary.json() == {"services": []}


def test_disabling_with_a_reason_and_enabling_again(admin_api, backend):
    who = {"host": backend.host, "binary": "cinder-volume"}

    disabled = admin_api.put(
        "/os-services/disable-log-reason", {**who, "disabled_reason": "maintenance"}
    )
    no_reason = admin_api.put("/os-services/disable-log-reason", {**who, "disabled_reason": None})
    unknown = admin_api.put("/os-services/disable", {"host": "nowhere", "binary": "cinder-volume"})
    listed = admin_api.get(f"/os-services?host={backend.host}").json()["services"][0]
    enabled = admin_api.put("/os-services/enable", who)

    assert disabled.json() == {
        "host": backend.host,
        "service": "",
        "binary": "cinder-volume",
        "status": "disabled",
        "disabled": True,
        "disabled_reason": "maintenance",
    }
    assert (listed["status"], listed["disabled_reason"]) == ("disabled", "maintenance")
    assert no_reason.status_code == 400
    assert unknown.status_code == 404
    assert enabled.json()["disabled_reason"] is None
    backend.refresh_from_db()
    assert (backend.disabled, backend.disabled_reason) == (False, "")


def test_a_frozen_backend_refuses_deletes_until_thawed(admin_api, owner_api, backend, world):
    volume = Volume.objects.create(
        project=world.project, user=world.owner, size=1, volume_type=VolumeType.default(),
        status="available", host=f"{backend.host}#lvm",
    )  # fmt: skip

    frozen = admin_api.put("/os-services/freeze", {"host": host_of(backend)})
    refused = owner_api.delete(f"/volumes/{volume.id}")
    twice = admin_api.put("/os-services/freeze", {"host": backend.host})
    nowhere = admin_api.put("/os-services/freeze", {"host": "nowhere"})
    backend.refresh_from_db()
    state = (backend.frozen, backend.disabled, backend.disabled_reason)
    thawed = admin_api.put("/os-services/thaw", {"host": backend.host})

    assert frozen.status_code == 200
    assert state == (True, True, "frozen")
    assert "frozen storage backends" in refused.json()["badRequest"]["message"]
    assert Volume.objects.get(id=volume.id).status == "available"
    assert twice.status_code == nowhere.status_code == 400
    assert thawed.status_code == 200
    backend.refresh_from_db()
    assert (backend.frozen, backend.disabled) == (False, False)


def test_hosts_list_and_a_volume_hosts_usage(admin_api, backend, world):
    vtype = VolumeType.default()
    for size in (1, 3):
        Volume.objects.create(
            project=world.project, user=world.owner, size=size, volume_type=vtype,
            host=f"{backend.host}#lvm",
        )  # fmt: skip

    hosts = admin_api.get("/os-hosts").json()["hosts"]
    shown = admin_api.get(f"/os-hosts/{backend.host}").json()["host"]
    missing = admin_api.get("/os-hosts/nowhere@lvm")

    mine = [h for h in hosts if h["host_name"] == backend.host]
    assert mine and mine[0]["service"] == "cinder-volume"
    assert mine[0]["service-status"] == "available"
    totals = {"volume_count": "2", "total_volume_gb": "4", "snapshot_count": "0"}
    assert shown[0]["resource"]["project"] == "(total)"
    assert totals.items() <= shown[0]["resource"].items()
    assert shown[1]["resource"]["project"] == world.project.pk
    assert missing.status_code == 404


def test_capabilities_are_the_backends_last_report(admin_api, owner_api, backend):
    answer = admin_api.get(f"/capabilities/{backend.host}").json()

    assert answer["namespace"] == f"OS::Storage::Capabilities::{backend.host}"
    assert (answer["volume_backend_name"], answer["storage_protocol"]) == ("LVM_x", "iSCSI")
    assert set(answer["properties"]) == {
        "thin_provisioning", "compression", "qos", "replication_enabled",
    }  # fmt: skip
    assert admin_api.get("/capabilities/nowhere@lvm").status_code == 404
    assert owner_api.get(f"/capabilities/{backend.host}").status_code == 403
    assert owner_api.get("/os-services").status_code == 403


def test_extensions_name_what_is_served(owner_api):
    extensions = owner_api.get("/extensions").json()["extensions"]
    aliases = {e["alias"] for e in extensions}
    assert {"os-hosts", "qos-specs", "os-volume-transfer", "encryption"} <= aliases
    assert "Hosts" in {e["name"] for e in extensions}
    assert all(e["links"] == [] and e["updated"] for e in extensions)
