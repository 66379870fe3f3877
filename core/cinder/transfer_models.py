"""Volume transfers, as Cinder's ``transfers`` table: an offer of a volume (and its
snapshots) to whichever project presents the auth key. Accepted or withdrawn offers
are kept, marked deleted, as Cinder keeps them (the history 3.57 shows)."""

import uuid

from django.db import models
from django.utils import timezone

from core.cinder.models import Volume


class Transfer(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    volume = models.ForeignKey(Volume, on_delete=models.CASCADE, related_name="transfers")
    display_name = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    salt = models.CharField(max_length=255)
    crypt_hash = models.CharField(max_length=255)
    no_snapshots = models.BooleanField(default=False)
    source_project_id = models.CharField(max_length=32)
    destination_project_id = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001
    accepted = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.display_name or str(self.id)
