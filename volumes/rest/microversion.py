"""``OpenStack-API-Version: volume 3.x``: parsed, range-checked, echoed.

MAX_VERSION is 3.71. Every response behaviour Cinder gates on a microversion
for the routes served here is implemented (see VERSIONED below). Versions
3.68 (os-reimage), 3.70 (encrypted transfers) and 3.71 (extend completion)
only add actions and resources that this server does not serve at any
version (volume actions, transfers, backups, attachments, groups answer 404),
so they change nothing for what is served.
"""

import re
from typing import NamedTuple

HEADER = "OpenStack-API-Version"
SERVICE = "volume"


class APIVersion(NamedTuple):
    major: int
    minor: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"

    def at_least(self, text: str) -> bool:
        return self >= parse_number(text)


def parse_number(text: str) -> "APIVersion":
    major, minor = text.split(".")
    return APIVersion(int(major), int(minor))


MIN_VERSION = APIVersion(3, 0)
MAX_VERSION = APIVersion(3, 71)
# What changes at each version for the routes served here (documentation and a checklist).
VERSIONED = {
    "3.3": "messages",
    "3.12": "volumes/summary",
    "3.13": "group_id in volume views and create",
    "3.23": "delete force",
    "3.31": "unknown filters are rejected",
    "3.34": "name~ / status~ LIKE filters",
    "3.45": "with_count",
    "3.47": "backup_id on create",
    "3.48": "shared_targets and service_uuid",
    "3.53": "strict create/update bodies",
    "3.60": "created_at/updated_at comparison filters",
    "3.61": "cluster_name (admin)",
    "3.63": "volume_type_id",
    "3.64": "encryption_key_id (encrypted volumes only)",
    "3.65": "consumes_quota",
    "3.66": "snapshot of an in-use volume without force",
    "3.67": "project_id optional in URLs (both routes answer at every version, as Cinder's "
    "router does; 3.67 tells clients they may drop it)",
    "3.69": "shared_targets may be null",
}
_FORMAT = re.compile(r"^([1-9]\d*)\.([1-9]\d*|0)$")


class VersionError(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


def from_header(value: str | None) -> APIVersion:
    """The requested version (3.0 without a header); VersionError for 400/406."""
    if value is None:
        return MIN_VERSION
    wanted = None
    for item in value.split(","):
        service, _, number = item.strip().partition(" ")
        if service.lower() == SERVICE:
            wanted = number.strip()
    if wanted is None:
        raise VersionError(400, f"No API version for '{SERVICE}' in {HEADER}.")
    if wanted.lower() == "latest":
        return MAX_VERSION
    match = _FORMAT.match(wanted)
    if not match:
        raise VersionError(
            400,
            f"API Version String {wanted} is of invalid format. Must be of "
            "format MajorNum.MinorNum.",
        )
    version = APIVersion(int(match.group(1)), int(match.group(2)))
    if not MIN_VERSION <= version <= MAX_VERSION:
        raise VersionError(
            406,
            f"Version {version} is not supported by the API. Minimum is {MIN_VERSION} and "
            f"maximum is {MAX_VERSION}.",
        )
    return version


def versions_document(base_url: str) -> dict:
    """Cinder's ``{"versions": [...]}`` for ``/`` (300) and ``/v3/`` (200)."""
    return {
        "versions": [
            {
                "id": "v3.0",
                "status": "CURRENT",
                "version": str(MAX_VERSION),
                "min_version": str(MIN_VERSION),
                "updated": "2023-08-31T00:00:00Z",
                "links": [
                    {
                        "rel": "describedby",
                        "type": "text/html",
                        "href": "https://docs.openstack.org/",
                    },
                    {"rel": "self", "href": f"{base_url}/v3/"},
                ],
                "media-types": [
                    {
                        "base": "application/json",
                        "type": "application/vnd.openstack.volume+json;version=3",
                    }
                ],
            }
        ]
    }
