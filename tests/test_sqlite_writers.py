"""SQLite's write transactions wait in line (core/kernel/sqlite): under heavy contention
none of them needs the busy handler, so even a busy timeout far shorter than the queue is
never hit, and no update is lost."""

import threading

from core.kernel.sqlite.base import DatabaseWrapper

WRITERS = 8
EACH = 40


def wrapper(path, alias: str, timeout: float) -> DatabaseWrapper:
    settings = {
        "ENGINE": "core.kernel.sqlite",
        "NAME": str(path),
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": timeout},
        "TIME_ZONE": None,
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": False,
        "AUTOCOMMIT": True,
        "ATOMIC_REQUESTS": False,
        "TEST": {},
        "USER": "",
        "PASSWORD": "",
        "HOST": "",
        "PORT": "",
    }
    return DatabaseWrapper(settings, alias)


def increment(db: DatabaseWrapper) -> None:
    """Read, think, write: a read-modify-write in one transaction, as the quota's are."""
    db.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    try:
        with db.cursor() as cursor:
            cursor.execute("SELECT value FROM counter WHERE id = 1")
            (value,) = cursor.fetchone()
            sum(range(20_000))  # hold the lock a moment, as real work does
            cursor.execute("UPDATE counter SET value = %s WHERE id = 1", [value + 1])
        db.commit()
    except BaseException:
        db.rollback()
        raise
    finally:
        db.set_autocommit(True)


def test_contending_write_transactions_queue_and_lose_nothing(tmp_path, django_db_blocker):
    with django_db_blocker.unblock():  # a scratch database of its own, not the test one
        contend(tmp_path)


def contend(tmp_path) -> None:
    path = tmp_path / "queue.sqlite3"
    setup = wrapper(path, "setup", 30)
    with setup.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER)")
        cursor.execute("INSERT INTO counter VALUES (1, 0)")
    setup.close()
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def writer(n: int) -> None:
        db = wrapper(path, f"w{n}", timeout=0.001)  # a busy handler that gives up at once
        try:
            start.wait()
            for _ in range(EACH):
                increment(db)
        except BaseException as error:
            errors.append(error)
        finally:
            db.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert errors == []  # no "database is locked": nobody waited on the busy handler
    check = wrapper(path, "check", 30)
    with check.cursor() as cursor:
        cursor.execute("SELECT value FROM counter WHERE id = 1")
        assert cursor.fetchone() == (WRITERS * EACH,)
    check.close()
