"""Cinder's backend filters, each answering "can this pool take this volume?" with a reason.

A filter has a ``name`` and one method, ``backend_passes(pool, req) -> Verdict``.
Filters are built per decision (as Cinder instantiates ``filter_cls()`` per run),
so a filter may prepare per-request work once: it remembers the last request it
saw and only re-prepares when a different request object arrives.

Passing verdicts are a shared constant and failure reasons are only formatted
when tracing, because this runs for every pool on every decision. The
capacity figures the CapacityFilter tests come from ``scheduler.capacity``.
"""

from __future__ import annotations

from collections.abc import Iterable
from math import inf
from typing import Any, ClassVar

from scheduler import evaluator, extra_specs_ops
from scheduler.capacity import (
    DEFAULT_MAX_OVER_SUBSCRIPTION_RATIO,
    Capacity,
    capacities,
    fmt,
    wants_thin,
)
from scheduler.state import Options, PoolState, Request

#: Protocols Cinder expands to all their spellings before matching.
PROTOCOL_VARIANTS: dict[str, list[str]] = {
    spelling: variants
    for variants in (
        ["iSCSI", "iscsi"],
        ["FC", "fibre_channel", "fc"],
        ["NFS", "nfs"],
        ["NVMe-oF", "NVMeOF", "nvmeof"],
    )
    for spelling in variants
}


def protocol_variants(protocol: Any) -> Any:
    """Cinder's ``get_storage_protocol_variants``: 'iscsi' -> ['iSCSI', 'iscsi']."""
    if isinstance(protocol, str):
        return PROTOCOL_VARIANTS.get(protocol, protocol)
    return protocol


class Verdict:
    """A filter's answer for one pool; truthy when the pool passes."""

    __slots__ = ("passed", "reason")

    def __init__(self, passed: bool, reason: str = "") -> None:
        self.passed = passed
        self.reason = reason

    def __bool__(self) -> bool:
        return self.passed

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Verdict):
            return NotImplemented
        return self.passed == other.passed and self.reason == other.reason

    def __hash__(self) -> int:
        return hash((self.passed, self.reason))

    def __repr__(self) -> str:
        word = "pass" if self.passed else "fail"
        return f"Verdict({word}, {self.reason!r})" if self.reason else f"Verdict({word})"


PASS = Verdict(True)
FAIL = Verdict(False)  # what every failure looks like when tracing is off


def _unreserved(reserved_pct: Any) -> bool:
    """Cinder's ``float(reserved_percentage) / 100 == 0`` test, without raising."""
    try:
        return float(reserved_pct) == 0
    except (TypeError, ValueError):
        return False


# --- filters -------------------------------------------------------------------------


class BackendFilter:
    """Base: per-decision options, and a hook to prepare per-request state once."""

    name: ClassVar[str] = "BackendFilter"

    def __init__(self, opts: Options | None = None) -> None:
        self.trace = True if opts is None else opts.trace
        self.global_mosr = (
            DEFAULT_MAX_OVER_SUBSCRIPTION_RATIO
            if opts is None
            else opts.max_over_subscription_ratio
        )
        self._req: Request | None = None

    def _ready(self, req: Request) -> None:
        if req is not self._req:
            self._req = req
            self.prepare(req)

    def prepare(self, req: Request) -> None:
        """Precompute whatever depends only on the request."""

    def passes_all(self, req: Request) -> bool:
        """True when this request cannot fail any pool, so the loop can be skipped."""
        return False

    def backend_passes(self, pool: PoolState, req: Request) -> Verdict:
        raise NotImplementedError

    def filter_all(
        self, pools: list[PoolState], req: Request
    ) -> tuple[list[PoolState], list[str], dict[str, str]]:
        """Run over many pools: (kept pools, kept names, {failed pool: reason}).

        Subclasses may override this with an inlined loop for speed; it must
        give the same answers as ``backend_passes`` pool by pool.
        """
        if self.passes_all(req):
            return list(pools), [pool.name for pool in pools], {}
        kept: list[PoolState] = []
        names: list[str] = []
        failed: dict[str, str] = {}
        check = self.backend_passes
        for pool in pools:
            verdict = check(pool, req)
            if verdict.passed:
                kept.append(pool)
                names.append(pool.name)
            else:
                failed[pool.name] = verdict.reason
        return kept, names, failed

    def fail(self, reason: str) -> Verdict:
        return Verdict(False, reason) if self.trace else FAIL


class AvailabilityZoneFilter(BackendFilter):
    """Pass pools in the requested zone(s); no zone requested passes everything.

    A type's ``RESKEY:availability_zones`` list (``req.availability_zones``) wins
    over the volume's single zone, as in Cinder.
    """

    name = "AvailabilityZoneFilter"

    def prepare(self, req: Request) -> None:
        zones = req.availability_zones
        self.zones: frozenset[str] | None = frozenset(zones) if zones else None
        self.zone = req.availability_zone or None

    def passes_all(self, req: Request) -> bool:
        self._ready(req)
        return self.zones is None and self.zone is None

    def filter_all(
        self, pools: list[PoolState], req: Request
    ) -> tuple[list[PoolState], list[str], dict[str, str]]:
        self._ready(req)
        if self.zones is None and self.zone is None:
            return list(pools), [pool.name for pool in pools], {}
        zones = self.zones if self.zones is not None else frozenset((self.zone,))
        kept = [pool for pool in pools if pool.availability_zone in zones]
        if len(kept) == len(pools):
            return kept, [pool.name for pool in kept], {}
        failed = {
            pool.name: self.backend_passes(pool, req).reason
            for pool in pools
            if pool.availability_zone not in zones
        }
        return kept, [pool.name for pool in kept], failed

    def backend_passes(self, pool: PoolState, req: Request) -> Verdict:
        self._ready(req)
        if self.zones is not None:
            if pool.availability_zone in self.zones:
                return PASS
            if not self.trace:
                return FAIL
            wanted = ", ".join(sorted(self.zones))
            return self.fail(f"availability zone {pool.availability_zone!r} not in [{wanted}]")
        if self.zone is None or pool.availability_zone == self.zone:
            return PASS
        if not self.trace:
            return FAIL
        return self.fail(
            f"availability zone {pool.availability_zone!r} is not the requested {self.zone!r}"
        )


class CapacityFilter(BackendFilter):
    """Cinder's CapacityFilter: room for ``size`` GiB, honouring reserved % and over-subscription.

    Thin (the default unless ``provisioning:type=thick``) on a thin-capable pool:
    ``(total − floor(total × reserved%)) × ratio − provisioned >= size``; the
    reported free space is ignored. Thick: the smaller of reported free and
    ``(total − reserved) − provisioned`` must cover ``size``. Pools reporting
    free capacity as 'infinite' or 'unknown' always pass (retry is the net).
    """

    name = "CapacityFilter"

    def prepare(self, req: Request) -> None:
        self.size = req.size
        self.thin = wants_thin(req.extra_specs)
        self.exists_on = req.vol_exists_on

    def passes_all(self, req: Request) -> bool:
        self._ready(req)
        return self.size == 0  # a manage request takes no new space

    def backend_passes(self, pool: PoolState, req: Request) -> Verdict:
        self._ready(req)
        size = self.size
        if size == 0 or pool.name == self.exists_on:
            return PASS
        capacity = pool.capacity(self.thin, self.global_mosr)
        if capacity.has_room(size):
            return PASS
        return self._verdict(capacity, size)

    def filter_all(
        self, pools: list[PoolState], req: Request
    ) -> tuple[list[PoolState], list[str], dict[str, str]]:
        # backend_passes with Capacity.has_room inlined (a call per pool costs
        # as much as the test); test_properties checks the two agree.
        self._ready(req)
        size = self.size
        if size == 0:
            return list(pools), [pool.name for pool in pools], {}
        kept: list[PoolState] = []
        names: list[str] = []
        failed: dict[str, str] = {}
        found = capacities(pools, self.thin, self.global_mosr)
        for pool, capacity in zip(pools, found, strict=True):
            if pool.name == self.exists_on:  # the volume is already there: no new space
                kept.append(pool)
                names.append(pool.name)
                continue
            if capacity.state == "ok":
                if capacity.thin:
                    mosr, total_available = capacity.mosr, capacity.total_available
                    room = (
                        mosr >= 1
                        and total_available
                        and (capacity.provisioned + size) / total_available <= mosr
                        and capacity.virtual_free >= size
                    )
                else:
                    room = capacity.virtual_free >= size
                if room:
                    kept.append(pool)
                    names.append(pool.name)
                    continue
            verdict = self._verdict(capacity, size)
            if verdict.passed:
                kept.append(pool)
                names.append(pool.name)
            else:
                failed[pool.name] = verdict.reason
        return kept, names, failed

    def _verdict(self, capacity: Capacity, size: int) -> Verdict:
        """The slow path: unusual states, and failures with their reasons."""
        state, total, reserved_pct = capacity.state, capacity.total, capacity.reserved_percentage
        if state == "free_unbounded":
            return PASS
        if state == "total_unbounded" and _unreserved(reserved_pct):
            return PASS
        if not self.trace:
            return FAIL if not capacity.has_room(size) else PASS
        if state == "total_unbounded":
            return Verdict(
                False,
                f"total capacity is {total!r}, so {fmt(reserved_pct)}% reserved cannot be computed",
            )
        if state == "free_unset":
            return Verdict(False, "free capacity not set: volume node info collection broken")
        if state == "no_total":
            return Verdict(False, f"total capacity is {fmt(total)} GiB")
        if state == "invalid":
            return Verdict(False, f"capacity report unusable: {capacity.problem}")
        if capacity.has_room(size):
            return PASS
        thin, mosr, provisioned = capacity.thin, capacity.mosr, capacity.provisioned
        if thin:
            if mosr < 1:
                return Verdict(
                    False,
                    f"invalid max over-subscription ratio {fmt(mosr)} (must be at least 1.0)",
                )
            # Cinder divides by a total that already includes the ratio and then
            # compares with the ratio again, so this check rarely binds; the
            # virtual-free test is the real one.
            total_available = capacity.total_available
            ratio = (provisioned + size) / total_available if total_available else inf
            if ratio > mosr:
                return Verdict(
                    False,
                    f"needs {size} GiB; provisioned ratio {ratio:.2f} would exceed max"
                    f" over-subscription ratio {mosr:.2f} (thin: ({fmt(provisioned)}"
                    f" provisioned + {size}) / {fmt(total_available)} GiB)",
                )
        kind = "thin" if thin else "thick"
        return Verdict(False, f"needs {size} GiB; virtual free {capacity.explain()} ({kind})")


class CapabilitiesFilter(BackendFilter):
    """Match the volume type's extra specs against the pool's capabilities.

    Unscoped keys and ``capabilities:`` keys are checked; any other scope
    (``provisioning:``, ``RESKEY:``, vendor prefixes) is ignored. Further ``:``
    parts walk nested dicts. A missing capability fails; a list capability
    passes if any element matches. ``storage_protocol`` is compared with all its
    spellings (iSCSI/iscsi, FC/fibre_channel/fc, ...), as Cinder expands it.
    """

    name = "CapabilitiesFilter"

    def prepare(self, req: Request) -> None:
        self.checks: list[tuple[str, str, tuple[str, ...], Any, extra_specs_ops.Matcher]] = []
        for key, wanted in (req.extra_specs or {}).items():
            scope = key.split(":")
            if len(scope) > 1 and scope[0] != "capabilities":
                continue
            if scope[0] == "capabilities":
                del scope[0]
            matcher = extra_specs_ops.compile_requirement(wanted)
            self.checks.append((key, ":".join(scope), tuple(scope), wanted, matcher))

    def passes_all(self, req: Request) -> bool:
        self._ready(req)
        return not self.checks

    def backend_passes(self, pool: PoolState, req: Request) -> Verdict:
        if req is not self._req:
            self._ready(req)
        capabilities = pool.capabilities
        for key, label, path, wanted, matcher in self.checks:
            value: Any = capabilities
            try:
                for part in path:
                    value = value[part]
            except (KeyError, TypeError, IndexError):
                return self.fail(f"capability {label} is not reported (wants {key}={wanted!r})")
            if path == ("storage_protocol",):
                value = protocol_variants(value)
            if isinstance(value, list):
                if any(matcher(item) for item in value):
                    continue
            elif matcher(value):
                continue
            return self.fail(f"capability {label} {value!r} does not match {wanted!r}")
        return PASS


class IgnoreAttemptedHostsFilter(BackendFilter):
    """Skip pools already tried for this volume (Cinder's ``RetryFilter``; not a default).

    ``req.retry`` is Cinder's ``filter_properties['retry']`` for this pass:
    ``{"num_attempts": n, "backends": [pools tried so far]}`` (``hosts`` is the
    legacy spelling). Without ``retry`` rescheduling is off and all pools pass.
    """

    name = "IgnoreAttemptedHostsFilter"

    def prepare(self, req: Request) -> None:
        retry = req.retry
        self.attempted: frozenset[str] = frozenset()
        self.attempt = 0
        if retry:
            self.attempted = frozenset(retry.get("backends", retry.get("hosts", [])) or ())
            self.attempt = int(retry.get("num_attempts", 0) or 0)

    def passes_all(self, req: Request) -> bool:
        self._ready(req)
        return not self.attempted

    def backend_passes(self, pool: PoolState, req: Request) -> Verdict:
        self._ready(req)
        if pool.name not in self.attempted:
            return PASS
        return self.fail(f"already attempted for this volume (this is attempt {self.attempt})")


class FunctionScope:
    """What a filter/goodness function can read: stats, capabilities, extra, volume, qos.

    The request's parts (``extra``: the type's extra specs; ``volume``: the
    request as Cinder's volume_properties; ``qos``: empty here) are built once
    per request; a pool's ``stats`` only when the expression reads them.
    """

    def __init__(self, req: Request) -> None:
        self.extra = dict(req.extra_specs or {})
        self.volume = {
            "size": req.size,
            "id": req.volume_id,
            "availability_zone": req.availability_zone,
            "status": "creating",
            "attach_status": "detached",
        }
        self.qos: dict[str, Any] = {}

    def variables(
        self, pool: PoolState, expression: evaluator.Expression, protocol: Any = None
    ) -> dict[str, Any]:
        """``protocol`` pins storage_protocol to one spelling (see ``protocol_choices``)."""
        caps = pool.capabilities
        capabilities = caps
        if protocol is not None:
            capabilities = {**caps, "storage_protocol": protocol}
        stats: dict[str, Any] = {}
        if "stats" in expression.namespaces:
            stats = {
                "host": pool.name,
                "cluster_name": None,
                "backend_id": pool.name,
                "volume_backend_name": caps.get("volume_backend_name"),
                "vendor_name": caps.get("vendor_name"),
                "driver_version": caps.get("driver_version"),
                "storage_protocol": (
                    protocol if protocol is not None else caps.get("storage_protocol")
                ),
                "QoS_support": caps.get("QoS_support", False),
                "total_capacity_gb": caps.get("total_capacity_gb", 0),
                "allocated_capacity_gb": caps.get("allocated_capacity_gb", 0),
                "free_capacity_gb": caps.get("free_capacity_gb", 0),
                "reserved_percentage": caps.get("reserved_percentage", 0),
                "updated": caps.get("timestamp"),
            }
        return {
            "stats": stats,
            "capabilities": capabilities,
            "extra": self.extra,
            "volume": self.volume,
            "qos": self.qos,
        }


def protocol_choices(function: str, caps: dict[str, Any]) -> Iterable[Any]:
    """Each spelling of the pool's protocol if the function mentions it, else ``(None,)``.

    As Cinder does, a function that mentions storage_protocol is tried with
    every spelling (iSCSI and iscsi, ...) and the best outcome counts.
    """
    variants = protocol_variants(caps.get("storage_protocol"))
    if "storage_protocol" in function and isinstance(variants, list):
        return variants
    return (None,)


class DriverFilter(BackendFilter):
    """Evaluate the backend's ``filter_function``; none set passes, an error fails."""

    name = "DriverFilter"

    def prepare(self, req: Request) -> None:
        self.scope = FunctionScope(req)

    def backend_passes(self, pool: PoolState, req: Request) -> Verdict:
        self._ready(req)
        function = pool.capabilities.get("filter_function")
        if function is None:
            return PASS
        function = str(function)
        try:
            expression = evaluator.parse(function)
        except evaluator.EvaluatorError as exc:
            return self.fail(f"filter_function {function!r} failed: {exc}")
        problem = ""
        for protocol in protocol_choices(function, pool.capabilities):
            try:
                if expression.evaluate(self.scope.variables(pool, expression, protocol)):
                    return PASS
            except evaluator.EvaluatorError as exc:
                problem = f": {exc}"
        if problem:
            return self.fail(f"filter_function {function!r} failed{problem}")
        return self.fail(f"filter_function {function!r} is false")


FILTERS: dict[str, type[BackendFilter]] = {
    cls.name: cls
    for cls in (
        AvailabilityZoneFilter,
        CapacityFilter,
        CapabilitiesFilter,
        IgnoreAttemptedHostsFilter,
        DriverFilter,
    )
}


def make_filters(names: Iterable[str], opts: Options) -> list[BackendFilter]:
    """Instantiate filters by class name, as ``scheduler_default_filters`` does."""
    names = list(names)
    missing = [name for name in names if name not in FILTERS]
    if missing:
        raise ValueError(f"Scheduler Host Filter {', '.join(missing)} could not be found.")
    return [FILTERS[name](opts) for name in names]
