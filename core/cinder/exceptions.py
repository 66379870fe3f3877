"""Cinder's exceptions that a user can meet, with Cinder's wording and HTTP codes."""


class CinderError(Exception):
    """Base: ``message`` is a format string filled from the keyword arguments."""

    message = "An unknown exception occurred."
    code = 500
    headers: dict[str, str] = {}

    def __init__(self, message: str | None = None, **kwargs):
        self.kwargs = kwargs
        super().__init__(message or self.message % kwargs)

    @property
    def msg(self) -> str:
        return str(self)


class Invalid(CinderError):
    message = "Unacceptable parameters."
    code = 400


class InvalidInput(Invalid):
    message = "Invalid input received: %(reason)s"


class InvalidVolume(Invalid):
    message = "Invalid volume: %(reason)s"


class InvalidVolumeType(Invalid):
    message = "Invalid volume type: %(reason)s"


class InvalidSnapshot(Invalid):
    message = "Invalid snapshot: %(reason)s"


class InvalidAvailabilityZone(Invalid):
    message = "Availability zone '%(az)s' is invalid."


class NotFound(CinderError):
    message = "Resource could not be found."
    code = 404


class VolumeNotFound(NotFound):
    message = "Volume %(volume_id)s could not be found."


class SnapshotNotFound(NotFound):
    message = "Snapshot %(snapshot_id)s could not be found."


class VolumeMetadataNotFound(NotFound):
    message = "Volume %(volume_id)s has no metadata with key %(metadata_key)s."


class SnapshotMetadataNotFound(NotFound):
    message = "Snapshot %(snapshot_id)s has no metadata with key %(metadata_key)s."


class VolumeTypeNotFound(NotFound):
    message = "Volume type %(volume_type_id)s could not be found."


class VolumeTypeNotFoundByName(VolumeTypeNotFound):
    message = "Volume type with name %(volume_type_name)s could not be found."


class QuotaError(CinderError):
    message = "Quota exceeded: code=%(code)s"
    code = 413
    headers = {"Retry-After": "0"}


class VolumeSizeExceedsAvailableQuota(QuotaError):
    message = (
        "Requested volume or snapshot exceeds allowed %(name)s quota. Requested "
        "%(requested)sG, quota is %(quota)sG and %(consumed)sG has been consumed."
    )


class VolumeSizeExceedsLimit(QuotaError):
    message = "Requested volume size %(size)dG is larger than maximum allowed limit %(limit)dG."


class VolumeLimitExceeded(QuotaError):
    message = "Maximum number of volumes allowed (%(allowed)d) exceeded for quota '%(name)s'."


class SnapshotLimitExceeded(QuotaError):
    message = "Maximum number of snapshots allowed (%(allowed)d) exceeded"


class UnexpectedOverQuota(QuotaError):
    message = "Unexpected over quota on %(name)s."


class ServiceUnavailable(CinderError):
    message = "The service is unavailable; try again."
    code = 503
    headers = {"Retry-After": "5"}


class NoValidBackend(CinderError):
    message = "No valid backend was found. %(reason)s"


# Sources, delete and images: Cinder's wording.
class ImageNotFound(NotFound):
    message = "Image %(image_id)s could not be found."


class ImageUnacceptable(Invalid):
    message = "Image %(image_id)s is unacceptable: %(reason)s"


class ImageTooBig(Invalid):
    message = "Image %(image_id)s size exceeded available disk space: %(reason)s"


class ImageCopyFailure(Invalid):
    message = "Failed to copy image to volume: %(reason)s"


class VolumeIsBusy(CinderError):
    message = "deleting volume %(volume_name)s that has snapshot"


class InvalidHost(Invalid):
    message = "Invalid host: %(reason)s"


class VolumeMigrationFailed(CinderError):
    message = "Volume migration failed: %(reason)s"


# Attaching and detaching: Cinder's wording.
class VolumeBackendAPIException(CinderError):
    message = "Bad or unexpected response from the storage volume backend API: %(data)s"


class VolumeAttachmentNotFound(NotFound):
    message = "Volume attachment could not be found with filter: %(filter)s."


class InvalidUUID(Invalid):
    message = "Expected a UUID but received %(uuid)s."


class InvalidVolumeAttachMode(Invalid):
    message = "Invalid attaching mode '%(mode)s' for volume %(volume_id)s."


class ResourceConflict(Invalid):
    message = "Resource conflict: %(reason)s"
    code = 409
