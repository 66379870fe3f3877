"""Shared by the quota tests: a project's usage, limits, and creates from many threads."""

import threading
from dataclasses import dataclass, field

from django.db import connections

from core.cinder import exceptions, quota
from core.cinder.models import QuotaLimit
from volumes import api


def usage(project, resource: str) -> tuple[int, int]:
    """(in_use, reserved) of one resource, as os-quota-sets shows it."""
    row = quota.usage_summary(project.pk)[resource]
    return row["in_use"], row["reserved"]


def limit(project, resource: str, hard_limit: int) -> None:
    QuotaLimit.objects.update_or_create(
        project=project, resource=resource, defaults={"hard_limit": hard_limit}
    )


@dataclass
class Outcome:
    created: list = field(default_factory=list)
    refused: list = field(default_factory=list)
    failed: list = field(default_factory=list)


def create_concurrently(world, count: int, **kwargs) -> Outcome:
    """``count`` creates through the real API flow, each in its own thread and connection.

    A barrier releases them together so they really race for the quota rows.
    """
    context = api.request_context(world.owner, world.project)
    barrier = threading.Barrier(count)
    outcome = Outcome()
    lock = threading.Lock()

    def one(n: int) -> None:
        try:
            barrier.wait(timeout=60)
            volume = api.create(context, name=f"race-{n}", **kwargs)
            with lock:
                outcome.created.append(volume.id)
        except exceptions.QuotaError as error:
            with lock:
                outcome.refused.append(error)
        except Exception as error:  # anything else is a bug the test reports
            with lock:
                outcome.failed.append(error)
        finally:
            connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=one, args=(n,), name=f"create-{n}") for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not any(t.is_alive() for t in threads), "a create never finished"
    return outcome
