"""POST /volumes/{id}/action: Cinder's answers for bad actions, bad sizes, quota and roles."""

import pytest

from core.cinder.models import QuotaLimit, Volume
from tests.integration.agent_support import wait_available

pytestmark = pytest.mark.integration


@pytest.fixture
def volume(world, owner_api, cloud):
    answer = owner_api.post("/volumes", {"volume": {"size": 1}})
    assert answer.status_code == 202
    return wait_available(answer.json()["volume"]["id"])


def action(api, volume, body):
    return api.post(f"/volumes/{volume.id}/action", body)


def test_unknown_and_malformed_actions_are_400(owner_api, volume):
    answer = action(owner_api, volume, {"os-nonsense": {}})
    assert answer.status_code == 400
    assert answer.json()["badRequest"]["message"] == "There is no such action: os-nonsense"
    assert action(owner_api, volume, {"os-extend": {"new_size": "x"}}).status_code == 400
    assert action(owner_api, volume, {"os-extend": {}}).status_code == 400
    assert action(owner_api, volume, {"os-extend": {"new_size": 1}}).status_code == 400


def test_extend_over_quota_is_413_and_leaves_nothing_reserved(world, owner_api, volume):
    QuotaLimit.objects.create(project=world.project, resource="gigabytes", hard_limit=2)
    answer = action(owner_api, volume, {"os-extend": {"new_size": 5}})
    assert answer.status_code == 413
    assert "VolumeSizeExceedsAvailableQuota" in answer.json()["overLimit"]["message"]
    volume.refresh_from_db()
    assert volume.status == "available" and volume.size == 1


def test_admin_actions_are_403_for_members_and_404_for_others(
    owner_api, outsider_api, admin_api, volume
):
    for body in ({"os-reset_status": {"status": "error"}}, {"os-force_delete": {}}):
        answer = action(owner_api, volume, body)
        assert answer.status_code == 403, body
        assert "forbidden" in answer.json()
    assert action(outsider_api, volume, {"os-extend": {"new_size": 2}}).status_code == 404
    assert Volume.objects.get(id=volume.id).status == "available"

    bad = action(admin_api, volume, {"os-reset_status": {"status": "nonsense"}})
    assert bad.status_code == 400
    refused = action(admin_api, volume, {"os-reset_status": {"status": "deleting"}})
    assert refused.status_code == 400
    no_attachment = action(admin_api, volume, {"os-reset_status": {"status": "in-use"}})
    assert no_attachment.status_code == 400
    ok = action(admin_api, volume, {"os-reset_status": {"migration_status": "error"}})
    assert ok.status_code == 202
    shown = admin_api.get(f"/volumes/{volume.id}").json()["volume"]
    assert shown["migration_status"] == "error"
    assert shown["os-vol-mig-status-attr:migstat"] == "error"


def test_a_deleted_volume_keeps_its_page(world, owner_api, volume, client):
    client.force_login(world.owner)
    assert owner_api.delete(f"/volumes/{volume.id}").status_code == 202

    from tests.waiting import wait_until

    wait_until(lambda: not Volume.objects.filter(id=volume.id).exists(), 60, "the delete")
    page = client.get(f"/volumes/{volume.id}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-volume-status="deleted"' in text
    assert 'data-operation="delete"' in text and "volume_delete_manager" in text
    assert owner_api.get(f"/volumes/{volume.id}").status_code == 404
