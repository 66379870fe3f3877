"""Django's SQLite backend with its write transactions waiting in line.

SQLite lets one writer in at a time and makes the others retry on a timer: its busy
handler sleeps 1, 2, 5 ... then 100 ms between tries. With a dozen writers (web
processes, the scheduler, the agents' workers) the lock then often sits free while every
waiter sleeps, and an unlucky one waits for seconds: contention wastes time instead of
queueing. Here a write transaction first takes an exclusive ``flock`` on a file beside
the database; the kernel queues the waiters and wakes the next the moment the holder
commits or rolls back (or dies). Writes outside a transaction keep the busy handler.
"""

import fcntl
import os

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    writer_lock: int | None = None  # this connection's descriptor while it holds the lock

    def _lock_path(self) -> str | None:
        name = str(self.settings_dict["NAME"])
        return None if self.is_in_memory_db() else f"{name}.writers"

    def _start_transaction_under_autocommit(self):
        path = self._lock_path()
        if path is not None and self.writer_lock is None:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)  # waits in the kernel's line, not on a timer
            self.writer_lock = fd
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_writer_lock()
            raise

    def _release_writer_lock(self) -> None:
        fd, self.writer_lock = self.writer_lock, None
        if fd is not None:
            os.close(fd)  # closing the descriptor releases the flock

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._release_writer_lock()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._release_writer_lock()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._release_writer_lock()
