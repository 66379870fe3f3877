"""The shared Cinder objects: projects and tokens, volume types, volumes, snapshots, images,
user messages and notifications.

Quota tables live in :mod:`core.cinder.quota_models` and are imported at the end so Django
finds them. The tables keep the names they had when these models lived in ``portal`` and
``volumes`` (``db_table``), so moving them changed no schema.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from core.kernel import plain_sql


def keystone_id() -> str:
    """Keystone-style ids: 32 lowercase hex characters."""
    return uuid.uuid4().hex


class Project(models.Model):
    id = models.CharField(primary_key=True, max_length=32, default=keystone_id, editable=False)
    name = models.CharField(max_length=64, unique=True)
    description = models.TextField(blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="projects"
    )

    class Meta:
        db_table = "portal_project"

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role on a project: ``reader`` reads, ``member`` also acts, ``admin`` is
    Keystone's project admin (no more than a member here; the cloud admin is a superuser)."""

    ROLES = [("reader", "reader"), ("member", "member"), ("admin", "admin")]

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    project = models.ForeignKey(Project, on_delete=models.CASCADE)
    role = models.CharField(max_length=16, choices=ROLES, default="member")

    class Meta:
        db_table = "portal_membership"
        constraints = [
            models.UniqueConstraint(fields=["user", "project"], name="one_membership_per_project")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.project} ({self.role})"


class Token(models.Model):
    """A Keystone token, kept only as its SHA-256 digest.

    The token itself is shown once (``X-Subject-Token``) and never stored, so a
    leaked database cannot be replayed against the API. Roles are not frozen
    here: they are read from the membership on every validation, so removing a
    member invalidates their tokens at once (Keystone revokes on unassignment).
    ``credential`` fingerprints the password the token was issued under: a new
    password ends every token. A token issued from another (the ``token`` method)
    keeps its ``parent``'s expiry and is revoked with it.
    """

    digest = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="keystone_tokens"
    )
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, null=True, blank=True, related_name="tokens"
    )
    methods = models.JSONField(default=list)
    audit_id = models.CharField(max_length=32)
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="derived"
    )
    credential = models.CharField(max_length=64, blank=True)

    class Meta:
        db_table = "portal_token"

    def __str__(self) -> str:
        scope = self.project.name if self.project_id else "unscoped"
        return f"token {self.audit_id} for {self.user} ({scope})"


VOLUME_STATUSES = [
    "creating",
    "available",
    "deleting",
    "error",
    "error_deleting",
    "error_managing",
    "managing",
    "attaching",
    "in-use",
    "detaching",
    "maintenance",
    "restoring-backup",
    "error_restoring",
    "reserved",
    "awaiting-transfer",
    "backing-up",
    "error_backing-up",
    "error_extending",
    "downloading",
    "uploading",
    "retyping",
    "extending",
    "reverting",
    "deleted",
]
ATTACH_STATUSES = [
    "attached",
    "attaching",
    "detached",
    "reserved",
    "error_attaching",
    "error_detaching",
    "deleted",
]
# Statuses that mean "something is still happening"; pages keep watching these.
TRANSITIONAL_STATUSES = {
    "creating",
    "deleting",
    "downloading",
    "attaching",
    "detaching",
    "extending",
    "retyping",
    "uploading",
    "backing-up",
    "restoring-backup",
    "reserved",
    "reverting",
}


class CompareAndSwap:
    """Cinder's ``conditional_update`` for a model with ``id`` and ``updated_at``."""

    @classmethod
    def conditional_update(cls, pk, expected: dict, **values) -> bool:
        """Set ``values`` only if the row still matches ``expected``: True if we won."""
        values.setdefault("updated_at", timezone.now())
        return cls.objects.filter(id=pk, **expected).update(**values) == 1


class LiveTypes(models.Manager):
    """Volume types not deleted: what lists, lookups and quota see."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted=False)


class VolumeType(models.Model):
    """A volume type. Deleting one keeps its row (``deleted``), as Cinder soft-deletes:
    the deleted volumes that used it still name it, and its name is free again."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=255)
    description = models.CharField(max_length=255, blank=True)
    is_public = models.BooleanField(default=True)
    qos_specs = models.ForeignKey(
        "cinder.QualityOfServiceSpecs",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="volume_types",
    )
    created_at = models.DateTimeField(default=timezone.now)
    deleted = models.BooleanField(default=False, db_index=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = LiveTypes()
    all_objects = models.Manager()  # noqa: DJ012 (a manager, not a field)

    class Meta:
        db_table = "volumes_volumetype"
        ordering = ["name"]
        base_manager_name = "all_objects"  # a deleted volume still reaches its type
        constraints = [
            models.UniqueConstraint(
                fields=["name"], condition=models.Q(deleted=False), name="one_live_type_per_name"
            )
        ]

    def __str__(self) -> str:
        return self.name

    # Cinder's policy lets non-admins see only these extra specs (the rest describe backends).
    USER_VISIBLE_SPECS = frozenset(
        {"RESKEY:availability_zones", "multiattach", "replication_enabled"}
    )

    def extra_specs_dict(self) -> dict[str, str]:
        return {spec.key: spec.value for spec in self.extra_specs.all()}

    def visible_extra_specs(self, is_admin: bool) -> dict[str, str]:
        specs = self.extra_specs_dict()
        return (
            specs if is_admin else {k: v for k, v in specs.items() if k in self.USER_VISIBLE_SPECS}
        )

    @classmethod
    def default(cls) -> "VolumeType":
        return cls.objects.get(name=settings.DEFAULT_VOLUME_TYPE)

    @classmethod
    def usable_named(cls, name: str, project_id: str, is_admin: bool = False):
        """``usable_by(project_id, is_admin).filter(name=name).first()`` as reads by key
        (a live name is unique): every create names its type."""
        found = plain_sql.by_key(cls, {"name": name, "deleted": False})
        if found is None or found.is_public or is_admin:
            return found
        given = plain_sql.by_key(VolumeTypeAccess, {"volume_type": found.pk, "project": project_id})
        return found if given is not None else None

    @classmethod
    def usable_by(cls, project_ids: str | list[str] | None, is_admin: bool = False):
        """The types a project (or any of several) may see and use: public ones and private
        ones it was given (os-volume-type-access); admins may use every type."""
        if is_admin:
            return cls.objects.all()
        if not isinstance(project_ids, list):
            project_ids = [project_ids]
        return cls.objects.filter(
            models.Q(is_public=True) | models.Q(access__project_id__in=project_ids)
        ).distinct()


class VolumeTypeAccess(models.Model):
    """A project's access to a private volume type (Cinder's volume_type_projects)."""

    volume_type = models.ForeignKey(VolumeType, on_delete=models.CASCADE, related_name="access")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="type_access")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["volume_type", "project"], name="one_access_per_type")
        ]

    def __str__(self) -> str:
        return f"{self.volume_type} for {self.project}"


class VolumeTypeExtraSpec(models.Model):
    volume_type = models.ForeignKey(
        VolumeType, on_delete=models.CASCADE, related_name="extra_specs"
    )
    key = models.CharField(max_length=255)
    value = models.CharField(max_length=255)

    class Meta:
        db_table = "volumes_volumetypeextraspec"
        constraints = [
            models.UniqueConstraint(fields=["volume_type", "key"], name="one_value_per_spec_key")
        ]

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


class LiveVolumes(models.Manager):
    """Volumes not deleted: what every service and list sees (Cinder's ``deleted = 0``)."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted=False)

    def by_id(self, volume_id) -> "Volume | None":
        """The live volume with this id, or None: one read by key, for the hot paths."""
        return plain_sql.by_key(self.model, {"id": volume_id, "deleted": False})


class Volume(CompareAndSwap, models.Model):
    """A volume with Cinder's fields and status strings.

    Status changes that can race go through :meth:`conditional_update`. A deleted volume
    keeps its row (``deleted``, status ``deleted``), as Cinder soft-deletes, so its page
    and history outlive it; ``objects`` hides such rows, ``all_objects`` shows them.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="volumes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    display_name = models.CharField(max_length=255, blank=True)
    display_description = models.CharField(max_length=255, blank=True)
    size = models.PositiveIntegerField()
    status = models.CharField(max_length=32, default="creating", db_index=True)
    attach_status = models.CharField(max_length=32, default="detached")
    availability_zone = models.CharField(max_length=255, blank=True)
    volume_type = models.ForeignKey(VolumeType, on_delete=models.PROTECT, related_name="volumes")
    # NULL until scheduled, as in Cinder: "no host" decides how a delete runs.
    host = models.CharField(max_length=255, blank=True, null=True)  # noqa: DJ001
    snapshot_id = models.UUIDField(null=True, blank=True)
    source_volid = models.UUIDField(null=True, blank=True)
    image_id = models.UUIDField(null=True, blank=True)
    bootable = models.BooleanField(default=False)
    multiattach = models.BooleanField(default=False)
    use_quota = models.BooleanField(default=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    launched_at = models.DateTimeField(null=True, blank=True)
    # The lifecycle's bookkeeping, as Cinder's columns of the same names.
    previous_status = models.CharField(max_length=32, blank=True)
    migration_status = models.CharField(max_length=255, blank=True)  # "target:<id>" too
    name_id = models.UUIDField(null=True, blank=True, help_text="whose LV holds the data")
    provider_location = models.CharField(max_length=255, blank=True)
    provider_auth = models.CharField(max_length=255, blank=True)
    deleted = models.BooleanField(default=False, db_index=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = LiveVolumes()
    all_objects = models.Manager()  # noqa: DJ012 (a manager, not a field)

    class Meta:
        db_table = "volumes_volume"
        ordering = ["-created_at"]
        base_manager_name = "all_objects"

    def __str__(self) -> str:
        return self.display_name or str(self.id)

    def as_recorded(self) -> dict:
        """What a flow's record shows of the volume where a task hands it on."""
        return {
            "id": str(self.id),
            "status": self.status,
            "size": self.size,
            "host": self.host,
            "availability_zone": self.availability_zone,
            "volume_type_id": str(self.volume_type_id),
        }

    @property
    def name(self) -> str:
        """Cinder's backend name (``volume_name_template``), of ``name_id`` after a migration."""
        return f"volume-{self.name_id or self.id}"

    @property
    def is_transitional(self) -> bool:
        return self.status in TRANSITIONAL_STATUSES or self.migration_status in (
            "starting",
            "migrating",
            "completing",
        )

    @classmethod
    def destroy(cls, pk, expected: dict) -> bool:
        """Cinder's ``volume_destroy``: the row is kept, marked deleted (only while it
        still matches ``expected``); True if this call deleted it."""
        now = timezone.now()
        return bool(
            cls.objects.filter(id=pk, **expected).update(
                status="deleted", deleted=True, deleted_at=now, updated_at=now, migration_status=""
            )
        )


SNAPSHOT_STATUSES = [
    "creating",
    "available",
    "deleting",
    "error",
    "error_deleting",
    "unmanaging",
    "backing-up",
    "restoring",
]
# Glance's image statuses.
IMAGE_STATUSES = [
    "queued",
    "saving",
    "uploading",
    "importing",
    "active",
    "deactivated",
    "killed",
    "deleted",
    "pending_delete",
]
DISK_FORMATS = ["raw", "qcow2", "vmdk", "vdi", "vhd", "vhdx", "iso", "ploop", "ami", "ari", "aki"]
CONTAINER_FORMATS = ["bare", "ovf", "ova", "aki", "ari", "ami", "docker", "compressed"]


class Snapshot(CompareAndSwap, models.Model):
    """A volume snapshot with Cinder's fields; it lives on its volume's backend."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    volume = models.ForeignKey(Volume, on_delete=models.PROTECT, related_name="snapshots")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="snapshots")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    display_name = models.CharField(max_length=255, blank=True)
    display_description = models.CharField(max_length=255, blank=True)
    status = models.CharField(
        max_length=32, default="creating", choices=[(s, s) for s in SNAPSHOT_STATUSES]
    )
    progress = models.CharField(max_length=255, blank=True)
    volume_size = models.PositiveIntegerField()
    volume_type = models.ForeignKey(VolumeType, on_delete=models.PROTECT, related_name="+")
    use_quota = models.BooleanField(default=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "volumes_snapshot"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.display_name or str(self.id)

    @property
    def name(self) -> str:
        """Cinder's ``snapshot_name_template`` (the LV itself is ``_snapshot-<id>``)."""
        return f"snapshot-{self.id}"


class Image(models.Model):
    """An image in the catalog (Glance's part): a file under ``VAR_DIR/images``."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=255, blank=True)
    owner = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="images", null=True, blank=True
    )
    visibility = models.CharField(
        max_length=16,
        default="public",
        choices=[(v, v) for v in ("public", "private", "shared", "community")],
    )
    status = models.CharField(
        max_length=32, default="queued", choices=[(s, s) for s in IMAGE_STATUSES]
    )
    disk_format = models.CharField(
        max_length=16, default="raw", choices=[(f, f) for f in DISK_FORMATS]
    )
    container_format = models.CharField(
        max_length=16, default="bare", choices=[(f, f) for f in CONTAINER_FORMATS]
    )
    size = models.BigIntegerField(null=True, blank=True, help_text="bytes")
    virtual_size = models.BigIntegerField(null=True, blank=True, help_text="bytes")
    min_disk = models.PositiveIntegerField(default=0, help_text="GiB")
    min_ram = models.PositiveIntegerField(default=0, help_text="MiB")
    checksum = models.CharField(max_length=64, blank=True)
    file = models.CharField(max_length=1024, blank=True, help_text="path under VAR_DIR/images")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "volumes_image"
        ordering = ["name", "created_at"]

    def __str__(self) -> str:
        return self.name or str(self.id)

    @property
    def path(self):
        return settings.VAR_DIR / "images" / self.file if self.file else None

    @property
    def size_gb(self) -> int:
        """The size a volume needs to hold the image, in whole GiB."""
        biggest = max(self.size or 0, self.virtual_size or 0)
        return max(-(-biggest // 2**30), self.min_disk, 1)

    def usable_by(self, project_id: str) -> bool:
        return self.visibility in ("public", "community") or (
            self.owner_id is not None and str(self.owner_id) == str(project_id)
        )


def new_request_id() -> str:
    """An oslo.context request id, as every request (and every service's own work) has."""
    return f"req-{uuid.uuid4()}"


class UserMessage(models.Model):
    """What the user is told about an asynchronous failure (Cinder's messages API)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="messages")
    resource_type = models.CharField(max_length=32, default="VOLUME")
    resource_uuid = models.UUIDField(null=True, blank=True, db_index=True)
    event_id = models.CharField(max_length=64)
    message_level = models.CharField(max_length=16, default="ERROR")
    user_message = models.TextField()
    detail = models.TextField(blank=True)
    request_id = models.CharField(max_length=255, default=new_request_id)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "volumes_usermessage"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.user_message


class Notification(models.Model):
    """An oslo-style notification (e.g. ``volume.create.start``), kept as a row."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="notifications")
    volume_id = models.UUIDField(null=True, blank=True, db_index=True)
    event_type = models.CharField(max_length=64)
    publisher_id = models.CharField(max_length=255)
    priority = models.CharField(max_length=16, default="INFO")
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "volumes_notification"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.event_type


class LiveAttachments(models.Manager):
    """Attachments not deleted (a detach soft-deletes the row, as Cinder's)."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted=False)


class VolumeAttachment(models.Model):
    """One attachment of a volume to a server (Cinder's ``volume_attachment``).

    There is no Nova: a server is just the instance UUID the caller names. The connector
    is what the caller says of its host; ``connection_info`` what the driver answered.
    A detached attachment keeps its row (``deleted``), so the volume's history shows it;
    ``objects`` (and ``volume.attachments``) hide such rows, ``all_objects`` shows them.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    volume = models.ForeignKey(Volume, on_delete=models.CASCADE, related_name="attachments")
    instance_uuid = models.UUIDField(null=True, blank=True)
    attached_host = models.CharField(max_length=255, blank=True)
    mountpoint = models.CharField(max_length=255, blank=True)
    attach_status = models.CharField(max_length=32, default="reserved")
    attach_mode = models.CharField(max_length=8, default="rw")
    connector = models.JSONField(default=dict, blank=True)
    connection_info = models.JSONField(default=dict, blank=True)
    attach_time = models.DateTimeField(null=True, blank=True)
    detach_time = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    deleted = models.BooleanField(default=False, db_index=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = LiveAttachments()
    all_objects = models.Manager()  # noqa: DJ012 (a manager, not a field)

    class Meta:
        ordering = ["created_at"]
        base_manager_name = "all_objects"

    def __str__(self) -> str:
        return (
            f"{self.volume_id} on {self.instance_uuid or self.attached_host} ({self.attach_status})"
        )


class Worker(models.Model):
    """Work in flight on one resource, as Cinder's ``workers`` table, with the cast carrying it.

    A row exists while an operation a lost job could leave half-done is under way (a
    create, a delete, a snapshot): written with the status change that starts it, moved
    along as the work passes from service to service, claimed by the job running it
    (``owner``), deleted with the job's last status change. Because it also holds the
    cast (queue, function, arguments, job id), a cast Redis lost is sent again: the table
    is the outbox. See :mod:`core.cinder.cleanable`.
    """

    RESOURCE_TYPES = [("VOLUME", "volume"), ("SNAPSHOT", "snapshot")]

    resource_type = models.CharField(max_length=16, choices=RESOURCE_TYPES)
    resource_id = models.UUIDField()
    status = models.CharField(max_length=32, help_text="the status the work runs under")
    service = models.CharField(max_length=255, help_text="cinder-scheduler or host@backend")
    queue = models.CharField(max_length=255)
    func = models.CharField(max_length=255, help_text="the job the cast runs")
    kwargs = models.JSONField(default=dict)
    job_id = models.CharField(max_length=64)
    owner = models.CharField(max_length=255, blank=True, help_text="host:pid running the job")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["resource_type", "resource_id"], name="one_worker_per_resource"
            )
        ]
        ordering = ["created_at"]

    def __str__(self) -> str:
        who = f" by {self.owner}" if self.owner else ""
        return f"{self.resource_type} {self.resource_id} {self.status} on {self.service}{who}"


from core.cinder.quota_models import QuotaClass, QuotaLimit, QuotaUsage, Reservation  # noqa: E402,F401
from core.cinder.transfer_models import Transfer  # noqa: E402,F401
from core.cinder.type_models import QualityOfServiceSpecs, VolumeTypeEncryption  # noqa: E402,F401
