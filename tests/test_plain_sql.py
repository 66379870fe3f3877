"""The plain INSERTs and UPDATEs of the hottest writes store what the ORM would: JSON, times,
ids, None, on SQLite and on PostgreSQL (the suite runs on both), and touch only the rows they
name."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from core.cinder.models import Worker
from core.kernel import plain_sql

pytestmark = pytest.mark.integration


@pytest.fixture
def work(live_db):
    """Makes work rows (unsaved with ``save=False``), removed after the test: the sweep sends
    the cast of any work row it finds again, so they name a queue no worker serves."""
    made = []

    def row(job_id: str = "job-1", save: bool = True, **fields) -> Worker:
        worker = Worker(
            resource_type="VOLUME",
            resource_id=uuid.uuid4(),
            status="creating",
            service="nowhere",
            queue="plain-sql-test",
            func="tests.test_plain_sql.nothing",
            kwargs={"size": 1},
            job_id=job_id,
            **fields,
        )
        made.append(worker.resource_id)
        if save:
            worker.save()
        return worker

    yield row
    Worker.objects.filter(resource_id__in=made).delete()


def test_an_update_stores_what_the_orm_reads_back_and_only_where_it_matches(work):
    one, other = work(), work()
    later = timezone.now() + timedelta(minutes=5)
    kwargs = {"context": {"user_id": 7}, "name": "naïve ✓", "none": None, "list": [1, 2]}
    changed = plain_sql.update(
        Worker,
        {"resource_type": "VOLUME", "resource_id": str(one.resource_id), "job_id": "job-1"},
        {"owner": "vm:1@2", "kwargs": kwargs, "updated_at": later},
    )
    assert changed == 1
    one.refresh_from_db()
    assert (one.owner, one.kwargs, one.updated_at) == ("vm:1@2", kwargs, later)
    other.refresh_from_db()
    assert other.owner == "" and other.kwargs == {"size": 1}
    # A condition that no longer holds changes nothing: the compare-and-swap lost.
    assert plain_sql.update(Worker, {"id": one.pk, "owner": ""}, {"owner": "late"}) == 0
    one.refresh_from_db()
    assert one.owner == "vm:1@2"


def test_update_many_writes_each_row_its_own_values(work):
    rows = [work(f"job-{n}") for n in range(3)]
    plain_sql.update_many(
        Worker,
        ["id"],
        ["status", "kwargs"],
        [([f"status-{n}", {"n": n}], [row.pk]) for n, row in enumerate(rows[:2])],
    )
    got = {w.pk: (w.status, w.kwargs) for w in Worker.objects.filter(pk__in=[r.pk for r in rows])}
    assert got == {
        rows[0].pk: ("status-0", {"n": 0}),
        rows[1].pk: ("status-1", {"n": 1}),
        rows[2].pk: ("creating", {"size": 1}),
    }


def test_a_condition_on_null_is_refused_not_silently_false(live_db):
    with pytest.raises(ValueError, match="NULL"):
        plain_sql.update(Worker, {"job_id": None}, {"owner": "x"})


def test_an_insert_writes_every_column_as_save_would(work):
    made = timezone.now() - timedelta(seconds=30)
    kwargs = {"context": {"roles": ["member"]}, "size": 2}
    rows = [work(job_id, save=False, created_at=made) for job_id in ("job-a", "job-b")]
    for row in rows:
        row.kwargs = kwargs
    plain_sql.insert(*rows)  # two rows: one statement, run for each
    got = Worker.objects.filter(resource_id__in=[r.resource_id for r in rows]).order_by("job_id")
    assert [(w.job_id, w.kwargs, w.created_at, w.owner) for w in got] == [
        ("job-a", kwargs, made, ""),
        ("job-b", kwargs, made, ""),
    ]
    assert got[0].pk != got[1].pk  # the automatic key is the database's


def test_a_read_by_key_gives_back_what_the_orm_reads(work):
    kwargs = {"context": {"user_id": 7}, "name": "naïve ✓", "none": None}
    saved = work("job-read", save=False)
    saved.kwargs = kwargs
    saved.save()
    key = {"resource_type": "VOLUME", "resource_id": saved.resource_id, "job_id": "job-read"}
    read = plain_sql.by_key(Worker, key)
    expected = Worker.objects.get(pk=saved.pk)
    names = [f.attname for f in Worker._meta.concrete_fields]
    assert [getattr(read, n) for n in names] == [getattr(expected, n) for n in names]
    assert isinstance(read.resource_id, uuid.UUID) and read.kwargs == kwargs
    assert read.created_at.tzinfo is not None
    read.owner = "vm:1@2"  # a model instance like any other: it saves as one
    read.save(update_fields=["owner"])
    assert Worker.objects.get(pk=saved.pk).owner == "vm:1@2"
    assert plain_sql.by_key(Worker, {**key, "job_id": "no-such-job"}) is None


def test_a_read_of_rows_gives_back_every_match_and_nothing_else(work):
    first, second = work("job-rows"), work("job-rows")
    work("job-other")
    found = plain_sql.rows(Worker, {"queue": "plain-sql-test", "job_id": "job-rows"})
    assert sorted(w.pk for w in found) == sorted([first.pk, second.pk])
    assert all(isinstance(w.resource_id, uuid.UUID) and w.kwargs == {"size": 1} for w in found)
    assert plain_sql.rows(Worker, {"queue": "plain-sql-test", "job_id": "no-such-job"}) == []


def test_a_read_for_update_locks_the_row_until_the_transaction_ends(work):
    from concurrent.futures import ThreadPoolExecutor

    from django.db import DatabaseError, connection, connections, transaction

    if not connection.features.has_select_for_update_nowait:
        pytest.skip("SQLite locks the whole database for a writer instead")
    saved = work("job-locked")

    def try_to_lock() -> str:
        try:
            with transaction.atomic():
                Worker.objects.select_for_update(nowait=True).get(pk=saved.pk)
            return "locked it"
        except DatabaseError:
            return "refused"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as other:
        with transaction.atomic():
            read = plain_sql.by_key(Worker, {"id": saved.pk}, for_update=True)
            assert read.job_id == "job-locked"
            assert other.submit(try_to_lock).result() == "refused"
        assert other.submit(try_to_lock).result() == "locked it"


def test_delete_many_removes_exactly_the_rows_it_names(work):
    gone, kept = work("job-gone"), work("job-kept")
    plain_sql.delete_many(Worker, ["id"], [[gone.pk], [gone.pk + 10**9]])
    assert not Worker.objects.filter(pk=gone.pk).exists()
    assert Worker.objects.filter(pk=kept.pk).exists()
