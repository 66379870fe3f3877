"""Hypothesis throws thousands of generated bodies at POST /volumes.

Whatever the body, the answer is never a 500; and whenever it is refused
(4xx), nothing was written: no volume row, no reservation, usage unchanged.
Bodies are built around the real schema (right keys, wrong values, wrong
types, extra keys, odd nesting) so most of them reach deep into validation.
"""

import json
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import Api, footprint, token_for

KEYS = [
    "size", "name", "description", "display_name", "display_description", "volume_type",
    "availability_zone", "metadata", "snapshot_id", "source_volid", "imageRef", "image_id",
    "backup_id", "group_id", "consistencygroup_id", "multiattach", "colour",
]  # fmt: skip
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=300),
    st.sampled_from(
        [
            "1",
            "0",
            "-1",
            "#$%",
            "",
            "  ",
            "00001",
            "2147483648",
            "thin",
            "gold",
            "nova",
            "az2",
            "nowhere",
            "__DEFAULT__",
            "6f1c0c7e-0000-4000-8000-000000000000",
            "True",
            "false",
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
volume_bodies = st.dictionaries(st.sampled_from(KEYS), values, max_size=6)
# Well-formed bodies too, so the run also goes past validation into quota and the flow.
well_formed = st.fixed_dictionaries(
    {"size": st.integers(min_value=1, max_value=8)},
    optional={
        "name": st.text(max_size=40),
        "description": st.text(max_size=40),
        "volume_type": st.sampled_from(["__DEFAULT__", "thin", "gold"]),
        "metadata": st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=8)),
    },
)
# Near the limits: metadata around its 128-item cap, text around the body size cap.
many_items = st.dictionaries(
    st.text(min_size=1, max_size=6), st.text(max_size=4), min_size=120, max_size=135
)
near_body_cap = st.integers(min_value=110_000, max_value=120_000).map(lambda n: "x" * n)
at_the_limits = st.fixed_dictionaries(
    {"size": st.just(1)},
    optional={"metadata": many_items, "description": near_body_cap, "name": near_body_cap},
)
bodies = st.one_of(
    st.fixed_dictionaries({"volume": well_formed}),
    st.fixed_dictionaries({"volume": at_the_limits}),
    st.fixed_dictionaries({"volume": volume_bodies}),
    st.fixed_dictionaries({"volume": volume_bodies, "OS-SCH-HNT:scheduler_hints": values}),
    st.dictionaries(st.text(max_size=10), values, max_size=3),
    values,
)


@pytest.fixture
def tiny_quota(world):
    """A small quota, so generated sizes often hit 413 as well as 202."""
    from core.cinder.quota_models import QuotaLimit

    QuotaLimit.objects.create(project=world.project, resource="gigabytes", hard_limit=50)
    QuotaLimit.objects.create(project=world.project, resource="volumes", hard_limit=1000)
    return world


def test_no_generated_body_gets_a_500_and_refused_ones_write_nothing(tiny_quota):
    world = tiny_quota
    # Project-scoped URLs: every microversion from 3.0 may use them.
    api = Api(token_for(world.owner, world.project), prefix=f"/v3/{world.project.pk}")
    seen: dict[int, int] = {}

    @settings(
        max_examples=2500,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(body=bodies, version=st.sampled_from(["volume 3.0", "volume 3.47", "volume 3.71"]))
    def check(body, version):
        api.version = version
        before = footprint(world.project)
        response = api.call("POST", "/volumes", raw=json.dumps(body).encode())
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        assert response.status_code < 500, response.content
        if response.status_code != 202:
            assert 400 <= response.status_code < 500
            assert footprint(world.project) == before, body

    check()
    print("answers:", seen)
    assert seen.get(400, 0) > 100, seen
    assert 202 in seen and 413 in seen, seen


LIST_KEYS = [
    "limit", "offset", "marker", "sort", "sort_key", "sort_dir", "with_count", "size", "name",
    "name~", "status", "metadata", "created_at", "updated_at", "all_tenants", "bootable",
]  # fmt: skip
param_values = st.one_of(
    st.text(max_size=20),
    st.integers(min_value=-5, max_value=2**70).map(str),
    st.sampled_from(
        ["²", "٣", "-1", "1_0", " 5", "0", "size:asc", "name:desc,id", "gt:2020", "a\x00b"]
    ),
    st.just("6f1c0c7e-0000-4000-8000-000000000000"),
)


def test_no_generated_list_query_gets_a_500(world):
    api = Api(token_for(world.owner, world.project), prefix=f"/v3/{world.project.pk}")

    @settings(
        max_examples=600, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    @given(
        params=st.dictionaries(st.sampled_from(LIST_KEYS), param_values, max_size=4),
        path=st.sampled_from(["/volumes", "/volumes/detail", "/snapshots", "/types"]),
        version=st.sampled_from(["volume 3.0", "volume 3.60", "volume 3.71"]),
    )
    def check(params, path, version):
        api.version = version
        response = api.get(f"{path}?{urlencode(params)}")
        assert response.status_code < 500, (params, response.content)
        assert response["Content-Type"] == "application/json"

    check()
