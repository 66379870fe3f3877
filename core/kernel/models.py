"""The kernel's records: who is alive (the services table) and every flow run.

FlowRun/TaskRun rows are written only by :mod:`core.kernel.recorder`; pages render
from them, so a reload (or a replay) shows exactly what happened. The tables keep
the names they had when these models lived in ``portal``.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class Service(models.Model):
    """A running service, as Cinder's services table: who is alive, and where.

    Each service writes its own row (heartbeats); the scheduler and /healthz
    read them. ``host`` is ``host@backend`` for volume services.
    """

    BINARIES = [("cinder-scheduler", "cinder-scheduler"), ("cinder-volume", "cinder-volume")]

    binary = models.CharField(max_length=32, choices=BINARIES)
    host = models.CharField(max_length=255)
    availability_zone = models.CharField(max_length=255, default="nova")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    disabled = models.BooleanField(default=False)
    disabled_reason = models.CharField(max_length=255, blank=True)
    # Cinder's freeze: the management plane of a backend is read-only until thawed.
    frozen = models.BooleanField(default=False)
    host_stats = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "portal_service"
        constraints = [
            models.UniqueConstraint(fields=["binary", "host"], name="one_service_per_host")
        ]
        ordering = ["binary", "host"]

    def __str__(self) -> str:
        return f"{self.binary} {self.host}"

    def heartbeat_age(self, now=None) -> float | None:
        if self.heartbeat_at is None:
            return None
        return ((now or timezone.now()) - self.heartbeat_at).total_seconds()

    def is_up(self, now=None) -> bool:
        """Cinder's is_up: heard from within ``service_down_time`` (what scheduling uses)."""
        age = self.heartbeat_age(now)
        return age is not None and age <= settings.SERVICE_DOWN_TIME

    def is_alive(self, now=None) -> bool:
        """Heard from within its heartbeat window: two ``report_interval`` and some slack.

        Stricter than ``is_up``, for health: a dead service shows within seconds.
        """
        age = self.heartbeat_age(now)
        return age is not None and age <= alive_window()


def alive_window() -> float:
    return 2 * settings.REPORT_INTERVAL + 2


class FlowRun(models.Model):
    """One run of one taskflow flow for one volume (an attempt, for reschedules)."""

    FLOWS = [("api", "API"), ("scheduler", "Scheduler"), ("manager", "Volume manager")]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    volume_id = models.UUIDField(db_index=True)
    project_id = models.CharField(max_length=32, db_index=True)
    flow = models.CharField(max_length=16, choices=FLOWS)
    # What the run is part of: create, delete, extend, attach... (one request may run
    # several flows, e.g. an extend's scheduler check and its manager step).
    operation = models.CharField(max_length=32, default="create", db_index=True)
    request_id = models.CharField(max_length=64, blank=True)
    # Run at teaching pace (core/kernel/pace.py): its durations include the held seconds.
    teaching = models.BooleanField(default=False)
    flow_name = models.CharField(max_length=64)
    attempt = models.PositiveSmallIntegerField(default=1)
    host = models.CharField(max_length=255, blank=True)
    state = models.CharField(max_length=16, default="PENDING")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    failure = models.TextField(blank=True)

    class Meta:
        db_table = "portal_flowrun"
        ordering = ["created_at"]
        indexes = [models.Index(fields=["volume_id", "created_at"])]

    def __str__(self) -> str:
        return f"{self.flow_name} #{self.attempt} ({self.state})"

    @property
    def duration(self) -> float | None:
        if self.started_at and self.ended_at:
            return (self.ended_at - self.started_at).total_seconds()
        return None


class TaskRun(models.Model):
    """One task of a FlowRun, with its taskflow state and what it did."""

    flow_run = models.ForeignKey(FlowRun, on_delete=models.CASCADE, related_name="tasks")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=64, help_text="the task class name")
    atom_name = models.CharField(max_length=255, help_text="taskflow's name, as Cinder's")
    state = models.CharField(max_length=16, default="PENDING")
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    revert_started_at = models.DateTimeField(null=True, blank=True)
    revert_ended_at = models.DateTimeField(null=True, blank=True)
    inputs = models.JSONField(default=dict, blank=True)
    result = models.JSONField(null=True, blank=True)
    failure = models.TextField(blank=True)
    traceback = models.TextField(blank=True)
    commands = models.JSONField(default=list, blank=True)
    history = models.JSONField(default=list, blank=True)

    class Meta:
        db_table = "portal_taskrun"
        ordering = ["flow_run", "position"]
        constraints = [
            models.UniqueConstraint(fields=["flow_run", "name"], name="one_task_row_per_run")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.state})"

    @property
    def duration(self) -> float | None:
        end = self.ended_at
        if self.started_at and end:
            return (end - self.started_at).total_seconds()
        return None
