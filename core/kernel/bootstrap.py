"""Loaded first in the agents' fork server: Django ready, taskflow warm, no connection open.

Pool workers are forked from that server, a small single-threaded process that never
touched the database, so a worker starts ready to run jobs and shares no lock, thread
or socket with the service that asked for it.
"""

import django

django.setup()

from core.kernel.runtime import warm_up  # noqa: E402  (needs the apps ready)

warm_up(())
