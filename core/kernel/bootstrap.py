"""Loaded first in the agents' fork server: Django ready, taskflow warm, no connection open.

Pool workers are forked from that server, a small single-threaded process that never
touched the database, so a worker starts ready to run jobs and shares no lock, thread
or socket with the service that asked for it.

The server must end with its service: its workers hold a copy of the pipe by which it
would notice (multiprocessing keeps it for them), so a ``kill -9`` of the service alone
would leave server and workers running, still taking jobs. The kernel ends it instead,
and each worker with it (see ``PoolWorker``).
"""

import django

from core.kernel.procs import child_preexec

child_preexec()  # the service is this server's parent
django.setup()

from core.kernel.runtime import warm_up  # noqa: E402  (needs the apps ready)

warm_up(())
