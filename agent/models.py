"""cinder-volume's configuration: the backends each agent host serves.

This plays the part of a backend section in cinder.conf; the agent reads its
own rows at start.
"""

from django.db import models
from django.utils import timezone


class BackendConfig(models.Model):
    RUNNERS = [("simulated", "simulated volume group"), ("real", "real LVM (subprocess)")]
    LVM_TYPES = [("default", "thick"), ("thin", "thin")]

    host = models.CharField(max_length=255)
    backend_name = models.CharField(max_length=255, help_text="the cinder.conf section name")
    volume_backend_name = models.CharField(max_length=255)
    availability_zone = models.CharField(max_length=255, default="nova")
    volume_group = models.CharField(max_length=255, default="cinder-volumes")
    vg_size_gb = models.FloatField(default=100.0, help_text="size of the simulated VG")
    lvm_type = models.CharField(max_length=16, choices=LVM_TYPES, default="default")
    runner = models.CharField(max_length=16, choices=RUNNERS, default="simulated")
    reserved_percentage = models.PositiveSmallIntegerField(default=0)
    max_over_subscription_ratio = models.CharField(max_length=16, default="20.0")
    extra_capabilities = models.JSONField(default=dict, blank=True)
    # Per-backend wipe options (cinder.conf sets them per backend section); blank means the
    # agent-wide VOLUME_CLEAR / VOLUME_CLEAR_SIZE settings.
    volume_clear = models.CharField(
        max_length=8, blank=True, choices=[("zero", "zero"), ("none", "none")]
    )
    volume_clear_size = models.PositiveIntegerField(
        null=True, blank=True, help_text="MiB to wipe; 0 is the whole volume"
    )
    # The data path (cinder.conf's target options): how volumes are exported over iSCSI.
    target_helper = models.CharField(
        max_length=16, choices=[("tgtadm", "tgtadm"), ("lioadm", "lioadm")], default="tgtadm"
    )
    target_ip_address = models.CharField(
        max_length=64, blank=True, help_text="blank: this host's own address (Cinder's $my_ip)"
    )
    target_port = models.PositiveIntegerField(default=3260)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["host", "backend_name"]
        constraints = [
            models.UniqueConstraint(fields=["host", "backend_name"], name="one_backend_per_host")
        ]

    def __str__(self) -> str:
        return self.service_host

    @property
    def service_host(self) -> str:
        """Cinder's ``host@backend``."""
        return f"{self.host}@{self.backend_name}"


class Fault(models.Model):
    """A fault a user turns on to watch reverts and reschedules happen.

    Faults are per backend and operation; several may be active at once.
    """

    OPERATIONS = [
        ("create", "create"),
        ("delete", "delete"),
        ("snapshot", "snapshot"),
        ("extend", "extend"),
        ("attach", "attach/detach"),
        ("revert", "revert to snapshot"),
        ("migrate", "migrate/retype"),
        ("report", "capability report"),
    ]

    backend = models.ForeignKey(BackendConfig, on_delete=models.CASCADE, related_name="faults")
    operation = models.CharField(max_length=16, choices=OPERATIONS)
    fail_next = models.PositiveIntegerField(default=0, help_text="fail the next N operations")
    probability = models.FloatField(default=0.0, help_text="fail each operation with this p")
    latency_ms = models.PositiveIntegerField(default=0, help_text="added before the operation")
    crash = models.BooleanField(default=False, help_text="kill the worker process mid-task")
    # A scenario's fault: only this volume's operations are hit (blank: every volume's).
    volume_id = models.UUIDField(null=True, blank=True)
    active = models.BooleanField(default=True)
    hits = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["backend", "operation", "id"]

    def __str__(self) -> str:
        parts = []
        if self.fail_next:
            parts.append(f"fail next {self.fail_next}")
        if self.probability:
            parts.append(f"fail p={self.probability:g}")
        if self.latency_ms:
            parts.append(f"+{self.latency_ms} ms")
        if self.crash:
            parts.append("crash")
        return f"{self.backend} {self.operation}: {', '.join(parts) or 'no effect'}"

    @property
    def spent(self) -> bool:
        """It will do nothing more: its crash fired, or its failures are used up and it had
        nothing else to do. Listed so the user sees it happened, and removable."""
        crashed = self.crash and not self.active and self.hits > 0
        used_up = (
            self.active
            and self.hits > 0
            and not (self.fail_next or self.probability or self.latency_ms or self.crash)
        )
        return crashed or used_up


class FleetPool(models.Model):
    """A simulated pool registered by ``manage.py load_fleet``, as its file described it.

    ``manage.py fleet_agent`` keeps these backends up: it heartbeats their
    services and re-reports this baseline (plus the volumes created on the pool)
    every ``backend_stats_polling_interval``, and serves their queues.
    """

    name = models.CharField(max_length=255, unique=True, help_text="host@backend#pool")
    host = models.CharField(max_length=255, db_index=True, help_text="host@backend")
    availability_zone = models.CharField(max_length=255, default="nova")
    capabilities = models.JSONField(default=dict)
    loaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "scheduler_fleetpool"  # its table from when the scheduler owned it
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
