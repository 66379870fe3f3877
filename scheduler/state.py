"""The scheduler's plain values: a pool, a request and the options, with Cinder's defaults.

Plays the inputs of Cinder's FilterScheduler: ``scheduler/host_manager.py``'s
``PoolState`` (one pool's reported capabilities), the ``request_spec`` and
``filter_properties`` it is asked to place (flattened into ``Request``), and
the cinder.conf scheduler options (``Options``). The filters, the weighers and
``decision`` all import these, and this module imports none of them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from scheduler.capacity import DEFAULT_MAX_OVER_SUBSCRIPTION_RATIO, Capacity, capacities

DEFAULT_FILTERS = ("AvailabilityZoneFilter", "CapacityFilter", "CapabilitiesFilter")
DEFAULT_WEIGHERS = ("CapacityWeigher",)
DEFAULT_AVAILABILITY_ZONE = "nova"


@dataclass
class PoolState:
    """One pool as the scheduler sees it; ``capabilities`` as get_pools?detail=True shows it.

    Treat ``capabilities`` as read-only, as Cinder does (it is a ReadOnlyDict
    there): replace the dict, e.g. with ``decision.consume_from_volume``'s
    result, rather than editing it in place, because the derived capacity
    figures are cached against the dict object.
    """

    name: str  # "host@backend#pool"
    host: str  # "host@backend"
    availability_zone: str
    capabilities: dict[str, Any]

    def __post_init__(self) -> None:
        # The capacity memo and what it was computed from (see
        # capacity.capacities). Set here, not as dataclass fields, so they stay
        # out of repr, equality and asdict(), and every instance shares one
        # attribute layout (cheap to update later).
        self._capacity: Capacity | None = None
        self._capacity_report: dict[str, Any] | None = None
        self._capacity_thin: bool | None = None
        self._capacity_mosr: str | None = None

    def capacity(
        self,
        thin: bool = True,
        global_mosr: str = DEFAULT_MAX_OVER_SUBSCRIPTION_RATIO,
    ) -> Capacity:
        """Capacity figures as the CapacityFilter sees them for a thin or thick request."""
        (figures,) = capacities((self,), thin, global_mosr)
        return figures


@dataclass
class Request:
    """What the scheduler is asked to place: Cinder's request_spec, flattened."""

    size: int
    extra_specs: dict[str, str] = field(default_factory=dict)
    availability_zone: str | None = None
    retry: dict[str, Any] | None = None  # {"num_attempts": n, "backends": [pool, ...]}
    volume_id: str = ""
    #: The type's ``RESKEY:availability_zones`` (request_spec['availability_zones']);
    #: when set it replaces ``availability_zone`` in the AvailabilityZoneFilter.
    availability_zones: list[str] | None = None
    #: ``filter_properties['vol_exists_on']`` (retype, migrate): the pool already holding
    #: the volume, which the CapacityFilter passes without asking for room.
    vol_exists_on: str | None = None


@dataclass
class Options:
    """cinder.conf's scheduler options, with Cinder's defaults."""

    filters: list[str] = field(default_factory=lambda: list(DEFAULT_FILTERS))
    weighers: list[str] = field(default_factory=lambda: list(DEFAULT_WEIGHERS))
    capacity_weight_multiplier: float = 1.0
    allocated_capacity_weight_multiplier: float = -1.0
    volume_number_multiplier: float = -1.0
    #: Cinder has no option for this (the GoodnessWeigher's multiplier is 1.0).
    goodness_weight_multiplier: float = 1.0
    #: The global ``max_over_subscription_ratio`` for pools that report none.
    max_over_subscription_ratio: str = DEFAULT_MAX_OVER_SUBSCRIPTION_RATIO
    #: Volumes per pool for the VolumeNumberWeigher (Cinder counts DB rows).
    volume_counts: dict[str, int] | None = None
    #: Random source for the ChanceWeigher; pass a seeded Random for repeatability.
    rng: random.Random | None = None
    #: Build per-pool failure reasons and per-weigher breakdowns.
    trace: bool = True
