"""cinder-scheduler's state: pools as the agents last reported them, and decisions."""

from django.db import models
from django.utils import timezone


class Pool(models.Model):
    """One pool's capabilities (backend-level stats merged with the pool's own).

    Written by capability reports and, between reports, by the scheduler's
    virtual consumption (Cinder's ``consume_from_volume``).
    """

    name = models.CharField(max_length=255, unique=True, help_text="host@backend#pool")
    host = models.CharField(max_length=255, db_index=True, help_text="host@backend")
    availability_zone = models.CharField(max_length=255, default="nova")
    capabilities = models.JSONField(default=dict)
    reported_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DecisionTrace(models.Model):
    """Why a scheduling attempt chose what it chose (or nothing): per pool, with numbers."""

    volume_id = models.UUIDField(db_index=True)
    attempt = models.PositiveSmallIntegerField(default=1)
    # create, or the later operation that asked again (extend, retype, migrate).
    operation = models.CharField(max_length=32, default="create")
    request = models.JSONField(default=dict)
    decision = models.JSONField(default=dict)
    chosen = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["volume_id", "attempt", "created_at"]

    def __str__(self) -> str:
        return f"{self.volume_id} attempt {self.attempt}: {self.chosen or 'no valid backend'}"
