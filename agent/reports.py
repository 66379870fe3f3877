"""Capability reports: the driver's stats, sent to the scheduler (unless a fault stops them)."""

import logging
from datetime import UTC, datetime

from agent import faults
from core.kernel.hosts import extract_host
from scheduler import rpcapi as scheduler_rpcapi

LOG = logging.getLogger(__name__)


def publish_capabilities(host: str, driver) -> bool:
    """Report ``host``'s stats now; returns False if the report failed (or a fault ate it).

    ``host`` may be a volume's ``host@backend#pool``; reports are per backend.
    """
    host = extract_host(host, "backend")
    try:
        faults.apply(host, "report")
        stats = driver.get_volume_stats(refresh=True)
    except Exception as error:
        LOG.warning("Could not report the capabilities of %s: %s", host, error)
        return False
    stamp = datetime.now(UTC).isoformat()
    scheduler_rpcapi.update_service_capabilities(host, stats, stamp)
    return True
