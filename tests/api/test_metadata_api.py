"""Volume and snapshot metadata as Cinder serves it: merge, replace, items, ETags, errors."""

from core.cinder.models import Snapshot, Volume
from tests.test_agent_views import volume_of as created_volume


def volume_of(world, **extra) -> Volume:
    volume = created_volume(world)
    Volume.objects.filter(id=volume.id).update(**extra)
    volume.refresh_from_db()
    return volume


def test_volume_metadata_merges_replaces_and_serves_items(world, owner_api):
    volume = volume_of(world, metadata={"a": "1"})
    base = f"/volumes/{volume.id}/metadata"
    assert owner_api.get(base).json() == {"metadata": {"a": "1"}}

    merged = owner_api.post(base, {"metadata": {"b": "2"}})
    assert merged.status_code == 200 and merged.json() == {"metadata": {"a": "1", "b": "2"}}
    replaced = owner_api.put(base, {"metadata": {"c": "3"}})
    assert replaced.json() == {"metadata": {"c": "3"}}

    assert owner_api.get(f"{base}/c").json() == {"meta": {"c": "3"}}
    assert owner_api.put(f"{base}/d", {"meta": {"d": "4"}}).json() == {"meta": {"d": "4"}}
    mismatch = owner_api.put(f"{base}/d", {"meta": {"e": "5"}})
    assert mismatch.status_code == 400
    assert mismatch.json()["badRequest"]["message"] == "Request body and URI mismatch"
    assert owner_api.put(f"{base}/d", {"meta": {"d": "4", "x": "y"}}).status_code == 400

    assert owner_api.delete(f"{base}/d").status_code == 200
    missing = owner_api.get(f"{base}/d")
    assert missing.status_code == 404
    assert missing.json()["itemNotFound"]["message"] == (
        f"Volume {volume.id} has no metadata with key d."
    )
    assert owner_api.delete(f"{base}/d").status_code == 404
    volume.refresh_from_db()
    assert volume.metadata == {"c": "3"}
    shown = owner_api.get(f"/volumes/{volume.id}").json()["volume"]["metadata"]
    assert shown == {"c": "3"}


def test_bad_metadata_is_refused_and_nothing_changes(world, owner_api):
    volume = volume_of(world, metadata={"keep": "me"})
    base = f"/volumes/{volume.id}/metadata"
    for body in (
        {"metadata": {"k": 1}},
        {"metadata": {"": "empty key"}},
        {"metadata": {"k" * 256: "v"}},
        {"metadata": {"k": "v" * 256}},
        {"metadata": "not an object"},
        {"meta": {"k": "v"}},
    ):
        assert owner_api.post(base, body).status_code == 400, body
    too_many = owner_api.post(base, {"metadata": {f"k{i}": "v" for i in range(128)}})
    assert too_many.status_code == 400  # 128 more than the one kept
    volume.refresh_from_db()
    assert volume.metadata == {"keep": "me"}


def test_etags_from_3_15_refuse_a_stale_update(world, owner_api):
    volume = volume_of(world, metadata={"a": "1"})
    base = f"/volumes/{volume.id}/metadata"
    answer = owner_api.get(base)
    tag = answer.headers["ETag"]
    owner_api.post(base, {"metadata": {"b": "2"}})  # someone else changed it
    stale = owner_api.call("PUT", base, {"metadata": {"x": "y"}}, **{"If-Match": tag})
    assert stale.status_code == 412
    fresh = owner_api.get(base).headers["ETag"]
    ok = owner_api.call("PUT", base, {"metadata": {"x": "y"}}, **{"If-Match": fresh})
    assert ok.status_code == 200
    old = owner_api.__class__(owner_api.token, version="volume 3.14")
    assert "ETag" not in old.get(base).headers


def test_snapshot_metadata_and_who_may_see_it(world, owner_api, outsider_api):
    volume = volume_of(world)
    snapshot = Snapshot.objects.create(
        volume=volume,
        project=world.project,
        user=world.owner,
        status="available",
        volume_size=1,
        volume_type=volume.volume_type,
    )
    base = f"/snapshots/{snapshot.id}/metadata"
    assert owner_api.post(base, {"metadata": {"s": "1"}}).json() == {"metadata": {"s": "1"}}
    assert owner_api.get(f"{base}/s").json() == {"meta": {"s": "1"}}
    assert owner_api.get(f"{base}/nope").json()["itemNotFound"]["message"] == (
        f"Snapshot {snapshot.id} has no metadata with key nope."
    )
    assert outsider_api.get(base).status_code == 404
    assert outsider_api.post(f"/volumes/{volume.id}/metadata", {"metadata": {}}).status_code == 404
