"""/os-quota-sets and /limits, over the quota engine (volumes.quota)."""

from django.db import transaction
from django.db.models import Q

from core.cinder import quota
from core.cinder.models import Project
from core.cinder.quota_models import QuotaLimit
from volumes.rest import schemas
from volumes.rest.faults import Fault, forbidden
from volumes.rest.routing import Call

NON_QUOTA_KEYS = {"tenant_id", "id"}


def target_project(call: Call, target: str) -> Project:
    """The project named in the URL; others' quotas are for admins only (403)."""
    project = Project.objects.filter(Q(pk=target) | Q(name=target)).first()
    if not call.caller.is_admin:
        if project is None or project.pk != call.caller.project_id:
            raise forbidden("volume_extension:quotas:show")
    if project is None:
        raise Fault(404, f"Project {target} could not be found.")
    return project


def show(call: Call, target: str) -> tuple[int, dict]:
    project = target_project(call, target)
    usage = _bool(call.request.GET.get("usage", "false"), "usage")
    if usage:
        values = quota.usage_summary(project.pk)
    else:
        values = quota.get_limits(project.pk)
    return 200, {"quota_set": {"id": project.pk, **values}}


def defaults(call: Call, target: str) -> tuple[int, dict]:
    project = target_project(call, target)
    return 200, {"quota_set": {"id": project.pk, **quota.default_limits()}}


def update(call: Call, target: str) -> tuple[int, dict]:
    if not call.caller.is_admin:
        raise forbidden("volume_extension:quotas:update")
    project = target_project(call, target)
    body = call.body()
    schemas.validate(schemas.quota_update, body)
    wanted = {k: v for k, v in body["quota_set"].items() if k not in NON_QUOTA_KEYS}
    known = set(quota.resource_names())
    bad = sorted(set(wanted) - known)
    if bad:
        raise Fault(400, f"Invalid input received: Bad key(s) in quota set: {', '.join(bad)}")
    limits = {key: _limit(key, value) for key, value in wanted.items()}
    usage = quota.usage_summary(project.pk)
    with transaction.atomic():
        for key, limit in limits.items():
            used = usage[key]["in_use"] + usage[key]["reserved"]
            if limit != -1 and key != "per_volume_gigabytes" and limit < used:
                raise Fault(
                    400,
                    f"Invalid input received: Quota {key} limit must be equal or "
                    f"greater than existing resources. Current usage is {used} and "
                    f"the requested limit is {limit}.",
                )
            QuotaLimit.objects.update_or_create(
                project=project, resource=key, defaults={"hard_limit": limit}
            )
    return 200, {"quota_set": quota.get_limits(project.pk)}


def delete(call: Call, target: str) -> tuple[int, None]:
    if not call.caller.is_admin:
        raise forbidden("volume_extension:quotas:delete")
    project = target_project(call, target)
    QuotaLimit.objects.filter(project=project).delete()
    return 200, None


QUOTA_CLASS_UPDATE = {
    "type": "object",
    "properties": {
        "quota_class_set": {
            "type": "object",
            "patternProperties": {
                "^[a-zA-Z0-9-_:. ]{1,300}$": {
                    "type": ["integer", "string"],
                    "pattern": "^[0-9]*$",
                    "minimum": -1,
                    "minLength": 1,
                    "maximum": schemas.DB_MAX_INT,
                }
            },
            "additionalProperties": False,
        }
    },
    "required": ["quota_class_set"],
    "additionalProperties": False,
}


def show_class(call: Call, class_name: str) -> tuple[int, dict]:
    call.require_admin("volume_extension:quota_classes")
    return 200, {"quota_class_set": {**quota.class_limits(class_name), "id": class_name}}


def update_class(call: Call, class_name: str) -> tuple[int, dict]:
    """Set some of a class's limits; the answer is the class's limits (without ``id``)."""
    call.require_admin("volume_extension:quota_classes")
    if len(class_name) > 255:
        raise Fault(400, "Invalid input received: quota_class_name has more than 255 characters.")
    body = call.body()
    schemas.validate(QUOTA_CLASS_UPDATE, body)
    wanted = body["quota_class_set"]
    bad = sorted(set(wanted) - set(quota.resource_names()))
    if bad:
        raise Fault(400, f"Invalid input received: Bad key(s) in quota set: {', '.join(bad)}")
    quota.set_class_limits(class_name, {key: int(value) for key, value in wanted.items()})
    return 200, {"quota_class_set": quota.class_limits(class_name)}


def limits(call: Call) -> tuple[int, dict]:
    usage = quota.usage_summary(call.caller.project_id)
    absolute = {
        "maxTotalVolumes": usage["volumes"]["limit"],
        "maxTotalSnapshots": usage["snapshots"]["limit"],
        "maxTotalVolumeGigabytes": usage["gigabytes"]["limit"],
        "maxTotalBackups": usage["backups"]["limit"],
        "maxTotalBackupGigabytes": usage["backup_gigabytes"]["limit"],
        "totalVolumesUsed": usage["volumes"]["in_use"],
        "totalGigabytesUsed": usage["gigabytes"]["in_use"],
        "totalSnapshotsUsed": usage["snapshots"]["in_use"],
        "totalBackupsUsed": usage["backups"]["in_use"],
        "totalBackupGigabytesUsed": usage["backup_gigabytes"]["in_use"],
    }
    return 200, {"limits": {"rate": [], "absolute": absolute}}


def _limit(key: str, value) -> int:
    number = int(value) if isinstance(value, int) else _int_string(key, value)
    if number < -1 or number > schemas.DB_MAX_INT:
        raise Fault(
            400,
            f"Invalid input received: Quota limit {value} for {key} must be "
            f"in the range of -1 and {schemas.DB_MAX_INT}.",
        )
    return number


def _int_string(key: str, value: str) -> int:
    digits = value.lstrip("-").lstrip("0") or "0"
    if len(digits) > 12:
        return schemas.DB_MAX_INT + 1
    return -int(digits) if value.startswith("-") else int(digits)


def _bool(raw: str, name: str) -> bool:
    lowered = raw.lower()
    if lowered in schemas.TRUE_STRINGS:
        return True
    if lowered in {"false", "0", "no", "n", "off", "f"}:
        return False
    raise Fault(400, f"Invalid input received: Invalid value '{raw}' for {name}")
