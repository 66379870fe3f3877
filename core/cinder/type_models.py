"""What hangs off a volume type besides extra specs: QoS specs and encryption, as Cinder's
``quality_of_service_specs`` and ``encryption`` tables."""

import uuid

from django.db import models
from django.utils import timezone

from core.cinder.models import VolumeType

QOS_CONSUMERS = ["front-end", "back-end", "both"]
CONTROL_LOCATIONS = ["front-end", "back-end"]


class QualityOfServiceSpecs(models.Model):
    """Named QoS key/values for a consumer; volume types point at one (``qos_specs``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=255, unique=True)
    consumer = models.CharField(
        max_length=16, default="back-end", choices=[(c, c) for c in QOS_CONSUMERS]
    )
    specs = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "QoS specs"
        verbose_name_plural = "QoS specs"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class VolumeTypeEncryption(models.Model):
    """A volume type's encryption: what the volumes of that type are encrypted with."""

    volume_type = models.OneToOneField(
        VolumeType, on_delete=models.CASCADE, related_name="encryption"
    )
    encryption_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    provider = models.CharField(max_length=255)
    cipher = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    key_size = models.IntegerField(null=True, blank=True)
    control_location = models.CharField(max_length=16, choices=[(c, c) for c in CONTROL_LOCATIONS])
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.volume_type}: {self.provider}"
