"""Quota tables, shaped as Cinder's: class defaults, project limits, usages, reservations."""

import uuid

from django.db import models
from django.utils import timezone

from core.cinder.models import Project


class QuotaClass(models.Model):
    """Editable defaults (Cinder's ``default`` quota class)."""

    class_name = models.CharField(max_length=64, default="default")
    resource = models.CharField(max_length=300)
    hard_limit = models.BigIntegerField()

    class Meta:
        db_table = "volumes_quotaclass"
        verbose_name_plural = "quota classes"
        constraints = [
            models.UniqueConstraint(fields=["class_name", "resource"], name="one_class_limit")
        ]

    def __str__(self) -> str:
        return f"{self.class_name}: {self.resource}={self.hard_limit}"


class QuotaLimit(models.Model):
    """A project's override of one resource's limit."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="quota_limits")
    resource = models.CharField(max_length=300)
    hard_limit = models.BigIntegerField()

    class Meta:
        db_table = "volumes_quotalimit"
        constraints = [
            models.UniqueConstraint(fields=["project", "resource"], name="one_project_limit")
        ]

    def __str__(self) -> str:
        return f"{self.project}: {self.resource}={self.hard_limit}"


class QuotaUsage(models.Model):
    """In use and reserved, exactly one row per project and resource.

    The unique constraint is what makes concurrent first reservations safe
    (Cinder bug #1484343: ``FOR UPDATE`` cannot lock a row that is not there).
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="quota_usages")
    resource = models.CharField(max_length=300)
    in_use = models.BigIntegerField(default=0)
    reserved = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "volumes_quotausage"
        constraints = [
            models.UniqueConstraint(fields=["project", "resource"], name="one_usage_per_resource")
        ]

    def __str__(self) -> str:
        return f"{self.project}: {self.resource} in_use={self.in_use} reserved={self.reserved}"

    @property
    def total(self) -> int:
        return self.in_use + self.reserved


class Reservation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    usage = models.ForeignKey(QuotaUsage, on_delete=models.CASCADE, related_name="reservations")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="reservations")
    resource = models.CharField(max_length=300)
    delta = models.BigIntegerField()
    expire = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "volumes_reservation"

    def __str__(self) -> str:
        return f"{self.resource} {self.delta:+d}"
