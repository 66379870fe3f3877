"""Tempest-style negative tests: Cinder's error bodies and codes, and nothing written."""

import uuid

import pytest

from core.cinder.models import Volume
from core.cinder.quota_models import QuotaLimit
from core.kernel.models import Service
from tests.api.conftest import Api, footprint, token_for


def fault(response, name: str, code: int) -> str:
    body = response.json()
    assert response.status_code == code, body
    assert list(body) == [name], body
    assert body[name]["code"] == code
    return body[name]["message"]


@pytest.mark.parametrize("size", ["#$%", "", 0, -1, "0", 1.5, 2**31, "2147483648", True, None])
def test_a_bad_size_is_a_400_and_writes_nothing(owner_api, world, size):
    before = footprint(world.project)
    response = owner_api.post("/volumes", {"volume": {"size": size, "name": "bad"}})
    fault(response, "badRequest", 400)
    assert footprint(world.project) == before


def test_a_missing_volume_key_or_a_non_object_body_is_a_400(owner_api, world):
    before = footprint(world.project)
    for raw in [b"", b"[]", b"{", b'{"volume": 1}', b'{"size": 1}', b'{"volume": {"size": NaN}}']:
        fault(owner_api.call("POST", "/volumes", raw=raw), "badRequest", 400)
    assert footprint(world.project) == before


def test_unknown_keys_and_two_sources_are_refused(owner_api, world):
    before = footprint(world.project)
    message = fault(
        owner_api.post("/volumes", {"volume": {"size": 1, "colour": "red"}}), "badRequest", 400
    )
    assert "colour" in message
    both = {"size": 1, "snapshot_id": str(uuid.uuid4()), "source_volid": str(uuid.uuid4())}
    assert "only one of" in fault(owner_api.post("/volumes", {"volume": both}), "badRequest", 400)
    assert footprint(world.project) == before


def test_a_name_longer_than_255_after_stripping_is_refused(owner_api, world):
    ok = owner_api.post("/volumes", {"volume": {"size": 1, "name": "  " + "n" * 255 + "  "}})
    assert ok.status_code == 202
    assert ok.json()["volume"]["name"] == "n" * 255
    long = owner_api.post("/volumes", {"volume": {"size": 1, "name": "n" * 256}})
    assert fault(long, "badRequest", 400) == (
        "Invalid input received: name has 256 characters, more than 255."
    )


def test_an_unknown_zone_is_a_400_and_a_new_services_zone_is_usable_at_once(owner_api, world):
    before = footprint(world.project)
    unknown = {"volume": {"size": 1, "availability_zone": "zone-far"}}
    message = fault(owner_api.post("/volumes", unknown), "badRequest", 400)
    assert message == "Availability zone 'zone-far' is invalid."
    assert footprint(world.project) == before
    # The zones are cached (Cinder's az_cache_duration); a zone the cache does not know
    # is looked up again, so a service just started in it is usable at once.
    far = Service.objects.create(
        binary="cinder-volume", host="far@lvm", availability_zone="zone-far"
    )
    try:
        created = owner_api.post("/volumes", unknown)
    finally:
        far.delete()  # the services table is shared with the tests after this one
    assert created.status_code == 202, created.json()
    assert created.json()["volume"]["availability_zone"] == "zone-far"


def test_multiattach_true_is_refused_with_cinders_message(owner_api):
    response = owner_api.post("/volumes", {"volume": {"size": 1, "multiattach": True}})
    assert "multiattach parameter has been removed" in fault(response, "badRequest", 400)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("volume_type", "no-such-type", "Volume type with name no-such-type could not be found."),
        ("snapshot_id", "0b5e9f6a-6a0c-4c39-9b9f-6c3b6f1f0001", "Snapshot 0b5e9f6a"),
        ("source_volid", "0b5e9f6a-6a0c-4c39-9b9f-6c3b6f1f0002", "Volume 0b5e9f6a"),
    ],
)
def test_an_unknown_type_snapshot_or_source_is_a_404(owner_api, world, field, value, message):
    before = footprint(world.project)
    response = owner_api.post("/volumes", {"volume": {"size": 1, field: value}})
    assert fault(response, "itemNotFound", 404).startswith(message)
    assert footprint(world.project) == before


@pytest.mark.parametrize("volume_id", [str(uuid.uuid4()), "not-a-uuid", "1", "%27%3B--"])
def test_unknown_or_malformed_volume_ids_are_404(owner_api, volume_id):
    for method in ("GET", "PUT", "DELETE"):
        body = {"volume": {"name": "x"}} if method == "PUT" else None
        response = owner_api.call(method, f"/volumes/{volume_id}", body)
        assert "could not be found" in fault(response, "itemNotFound", 404)


def test_another_projects_volume_is_a_404(owner_api, outsider_api):
    created = owner_api.post("/volumes", {"volume": {"size": 1}}).json()["volume"]
    for method in ("GET", "DELETE"):
        response = outsider_api.call(method, f"/volumes/{created['id']}")
        assert fault(response, "itemNotFound", 404) == f"Volume {created['id']} could not be found."
    listed = outsider_api.get("/volumes/detail?all_tenants=1").json()["volumes"]
    assert created["id"] not in [v["id"] for v in listed]
    assert Volume.objects.filter(id=created["id"]).exists()


def test_over_quota_is_a_413_overlimit_named_after_the_exceeded_resource(owner_api, world):
    QuotaLimit.objects.create(project=world.project, resource="gigabytes", hard_limit=5)
    QuotaLimit.objects.create(project=world.project, resource="volumes", hard_limit=1)
    before = footprint(world.project)
    response = owner_api.post("/volumes", {"volume": {"size": 6}})
    message = fault(response, "overLimit", 413)
    assert message == (
        "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed "
        "gigabytes quota. Requested 6G, quota is 5G and 0G has been consumed."
    )
    assert response.json()["overLimit"]["retryAfter"] == "0"
    assert response["Retry-After"] == "0"
    assert footprint(world.project) == before

    assert owner_api.post("/volumes", {"volume": {"size": 1}}).status_code == 202
    second = owner_api.post("/volumes", {"volume": {"size": 1}})
    assert fault(second, "overLimit", 413) == (
        "VolumeLimitExceeded: Maximum number of volumes allowed (1) exceeded for quota 'volumes'."
    )


@pytest.mark.parametrize("token", [None, "", "garbage", "gAAAAAnot-a-real-token"])
def test_no_token_or_a_bad_token_is_a_401(live_db, token):
    response = Api(token).get("/volumes")
    assert fault(response, "unauthorized", 401)


def test_a_revoked_or_expired_token_is_a_401(world):
    from django.utils import timezone

    from core.cinder import tokens

    issued = tokens.issue(world.owner, world.project, ["password"])
    api = Api(issued.raw)
    assert api.get("/volumes").status_code == 200
    tokens.revoke(issued.token)
    assert api.get("/volumes").status_code == 401
    fresh = tokens.issue(world.owner, world.project, ["password"])
    type(fresh.token).objects.filter(pk=fresh.token.pk).update(expires_at=timezone.now())
    assert Api(fresh.raw).get("/volumes").status_code == 401


def test_a_project_id_in_the_url_must_be_the_tokens(world):
    api = Api(token_for(world.owner, world.project), prefix=f"/v3/{world.project.pk}")
    assert api.get("/volumes").status_code == 200
    other = world.outsider.projects.first()
    wrong = Api(api.token, prefix=f"/v3/{other.pk}")
    assert fault(wrong.get("/volumes"), "badRequest", 400) == "Malformed request url"


def test_non_admins_cannot_read_pools_or_change_quotas(owner_api, world):
    assert fault(owner_api.get("/scheduler-stats/get_pools"), "forbidden", 403)
    update = owner_api.put(f"/os-quota-sets/{world.project.pk}", {"quota_set": {"volumes": 1}})
    assert fault(update, "forbidden", 403)
    assert not QuotaLimit.objects.filter(project=world.project).exists()


@pytest.mark.parametrize(
    "quota_set",
    [{}, {"volumes": -2}, {"volumes": "ten"}, {"nonsense": 1}, {"volumes": 2**31}],
)
def test_bad_quota_updates_are_400_and_change_nothing(admin_api, world, quota_set):
    response = admin_api.put(f"/os-quota-sets/{world.project.pk}", {"quota_set": quota_set})
    fault(response, "badRequest", 400)
    assert not QuotaLimit.objects.filter(project=world.project).exists()


def test_list_filters_sorting_and_paging_answer_without_errors(owner_api, world):
    for i in range(3):
        body = {"volume": {"size": 1, "name": f"v{i}", "metadata": {"tier": "a" if i else "b"}}}
        assert owner_api.post("/volumes", body).status_code == 202
    tagged = owner_api.get("/volumes/detail?metadata={'tier': 'a'}").json()["volumes"]
    assert sorted(v["name"] for v in tagged) == ["v1", "v2"]
    page = owner_api.get("/volumes?limit=2&sort=name:asc&with_count=true").json()
    assert [v["name"] for v in page["volumes"]] == ["v0", "v1"] and page["count"] == 3
    marker = page["volumes"][-1]["id"]
    rest = owner_api.get(f"/volumes?limit=2&sort=name:asc&marker={marker}").json()
    assert [v["name"] for v in rest["volumes"]] == ["v2"]
    assert [v["name"] for v in owner_api.get("/volumes?name~=1").json()["volumes"]] == ["v1"]
    for query in [
        "limit=x",
        "limit=-1",
        "sort=colour",
        "marker=nope",
        "colour=red",
        "metadata=notadict",
        "created_at=gt:yesterday",
        "sort=name:sideways",
    ]:
        response = owner_api.get(f"/volumes/detail?{query}")
        assert response.status_code in (400, 404), (query, response.content)
