"""/types, their extra specs and their access lists: everyone reads the types they may
use (public ones, and private ones their project was given), admins write."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.cinder import exceptions, quota
from core.cinder.models import (
    Project,
    Snapshot,
    VolumeType,
    VolumeTypeAccess,
    VolumeTypeExtraSpec,
)
from volumes.rest import builders, listing, schemas
from volumes.rest.faults import Fault
from volumes.rest.routing import Call
from volumes.rest.volumes import parse_uuid

SORT_KEYS = {"id": "id", "name": "name", "created_at": "created_at", "description": "description"}
TYPE_CREATE = {
    "type": "object",
    "properties": {
        "volume_type": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 255},
                "description": {"type": ["string", "null"], "maxLength": 255},
                "os-volume-type-access:is_public": schemas.boolean_ish,
                "extra_specs": schemas.extra_specs_create["properties"]["extra_specs"],
            },
            "required": ["name"],
            "additionalProperties": False,
        }
    },
    "required": ["volume_type"],
    "additionalProperties": False,
}


TYPE_UPDATE = {
    "type": "object",
    "properties": {
        "volume_type": {
            "type": "object",
            "properties": {
                "name": {"type": ["string", "null"], "minLength": 1, "maxLength": 255},
                "description": {"type": ["string", "null"], "maxLength": 255},
                "is_public": schemas.boolean_ish,
            },
            "additionalProperties": False,
        }
    },
    "required": ["volume_type"],
    "additionalProperties": False,
}


def usable(call: Call):
    return VolumeType.usable_by(call.caller.project_id, call.caller.is_admin)


def get_type(call: Call, type_id: str) -> VolumeType:
    if type_id == "default":
        return VolumeType.default()
    found = parse_uuid(type_id)
    vtype = usable(call).filter(id=found).first() if found else None
    if vtype is None:
        raise exceptions.VolumeTypeNotFound(volume_type_id=type_id)
    return vtype


def list_types(call: Call) -> tuple[int, dict]:
    types = usable(call).prefetch_related("extra_specs")
    is_public = call.request.GET.get("is_public")
    if call.caller.is_admin and is_public not in (None, "None", ""):
        types = types.filter(is_public=schemas.truthy(is_public))
    queryset = types.order_by(*listing.sort_keys(call, SORT_KEYS, default="name"))
    items, links, _ = listing.paginate(call, queryset, "types")
    body = {"volume_types": [builders.volume_type(call, t) for t in items]}
    if links:
        body["volume_type_links"] = links
    return 200, body


def show_type(call: Call, type_id: str) -> tuple[int, dict]:
    return 200, {"volume_type": builders.volume_type(call, get_type(call, type_id))}


def create_type(call: Call) -> tuple[int, dict]:
    call.require_admin("volume_extension:types_manage")
    body = call.body()
    schemas.validate(TYPE_CREATE, body)
    request = body["volume_type"]
    name = request["name"].strip()
    if not name:
        raise exceptions.InvalidInput(reason="Volume type name can not be empty.")
    try:
        with transaction.atomic():
            vtype = VolumeType.objects.create(
                name=name,
                description=request.get("description") or "",
                is_public=schemas.truthy(request.get("os-volume-type-access:is_public", True)),
            )
            for key, value in (request.get("extra_specs") or {}).items():
                VolumeTypeExtraSpec.objects.create(volume_type=vtype, key=key, value=value)
    except IntegrityError:
        raise Fault(409, f"Volume Type {name} already exists.") from None
    return 200, {"volume_type": builders.volume_type(call, vtype, answer="create")}


def update_type(call: Call, type_id: str) -> tuple[int, dict]:
    """Name, description and is_public, any of them (types_manage's update)."""
    call.require_admin("volume_extension:type_update")
    body = call.body()
    schemas.validate(TYPE_UPDATE, body)
    request = body["volume_type"]
    name, description = request.get("name"), request.get("description")
    is_public = request.get("is_public")
    if name is not None and not name.strip():
        raise Fault(400, "Volume type name can not be empty.")
    if name is None and description is None and is_public is None:
        raise Fault(
            400, "Specify volume type name, description, is_public or a combination thereof."
        )
    vtype = get_type(call, type_id)
    values = {}
    if name is not None:
        if vtype.name == VolumeType.default().name and name != vtype.name:
            # Cinder would rename it and then fail to find its configured default type.
            raise exceptions.InvalidVolumeType(reason="The default volume type keeps its name.")
        values["name"] = name
    if description is not None:
        values["description"] = description
    if is_public is not None:
        values["is_public"] = schemas.truthy(is_public)
    try:
        with transaction.atomic():
            VolumeType.objects.filter(id=vtype.id).update(**values)
            if values.get("name", vtype.name) != vtype.name:
                quota.rename_type_resources(vtype.name, values["name"])
    except IntegrityError:
        raise Fault(409, f"Volume Type {name} already exists.") from None
    vtype.refresh_from_db()
    return 200, {"volume_type": builders.volume_type(call, vtype, answer="update")}


def delete_type(call: Call, type_id: str) -> tuple[int, None]:
    call.require_admin("volume_extension:types_manage")
    vtype = get_type(call, type_id)
    if vtype.name == VolumeType.default().name:
        raise Fault(400, "Default volume type can not be deleted.")
    in_use = Fault(
        400,
        f"Target volume type is still in use. Volume Type {vtype.id} deletion "
        "is not allowed with volumes present with the type.",
    )
    # Deleted volumes keep naming the type, so it is marked deleted, not removed (Cinder's
    # volume_type_destroy); live volumes and snapshots keep it alive.
    with transaction.atomic():
        if vtype.volumes.exists() or Snapshot.objects.filter(volume_type=vtype).exists():
            raise in_use
        VolumeType.objects.filter(id=vtype.id).update(deleted=True, deleted_at=timezone.now())
    return 202, None


def list_specs(call: Call, type_id: str) -> tuple[int, dict]:
    vtype = get_type(call, type_id)
    return 200, {"extra_specs": builders.volume_type(call, vtype)["extra_specs"]}


def set_specs(call: Call, type_id: str) -> tuple[int, dict]:
    call.require_admin("volume_extension:types_extra_specs:create")
    vtype = get_type(call, type_id)
    body = call.body()
    schemas.validate(schemas.extra_specs_create, body)
    with transaction.atomic():
        for key, value in body["extra_specs"].items():
            VolumeTypeExtraSpec.objects.update_or_create(
                volume_type=vtype, key=key, defaults={"value": value}
            )
    return 200, {"extra_specs": body["extra_specs"]}


def _spec(call: Call, vtype: VolumeType, key: str) -> VolumeTypeExtraSpec:
    spec = vtype.extra_specs.filter(key=key).first()
    visible = call.caller.is_admin or key in VolumeType.USER_VISIBLE_SPECS
    if spec is None or not visible:
        raise Fault(404, f"Volume Type {vtype.id} has no extra specs with key {key}.")
    return spec


def show_spec(call: Call, type_id: str, key: str) -> tuple[int, dict]:
    spec = _spec(call, get_type(call, type_id), key)
    return 200, {spec.key: spec.value}


def update_spec(call: Call, type_id: str, key: str) -> tuple[int, dict]:
    call.require_admin("volume_extension:types_extra_specs:update")
    vtype = get_type(call, type_id)
    body = call.body()
    schemas.validate(schemas.extra_specs_create["properties"]["extra_specs"], body)
    if len(body) != 1 or key not in body:
        raise Fault(400, "Request body and URI mismatch")
    VolumeTypeExtraSpec.objects.update_or_create(
        volume_type=vtype, key=key, defaults={"value": body[key]}
    )
    return 200, body


def delete_spec(call: Call, type_id: str, key: str) -> tuple[int, None]:
    call.require_admin("volume_extension:types_extra_specs:delete")
    _spec(call, get_type(call, type_id), key).delete()
    return 202, None


# -- os-volume-type-access (admins) ------------------------------------------------------

ACCESS_ACTION = {
    "type": "object",
    "properties": {
        action: {
            "type": "object",
            "properties": {"project": {"type": "string", "minLength": 1, "maxLength": 255}},
            "required": ["project"],
            "additionalProperties": False,
        }
        for action in ("addProjectAccess", "removeProjectAccess")
    },
    "minProperties": 1,
    "maxProperties": 1,
    "additionalProperties": False,
}


def list_access(call: Call, type_id: str) -> tuple[int, dict]:
    call.require_admin("volume_extension:volume_type_access")
    vtype = get_type(call, type_id)
    if vtype.is_public:
        raise Fault(404, "Access list not available for public volume types.")
    access = [
        {"volume_type_id": str(vtype.id), "project_id": project_id}
        for project_id in vtype.access.values_list("project_id", flat=True)
    ]
    return 200, {"volume_type_access": access}


def type_action(call: Call, type_id: str) -> tuple[int, None]:
    """``addProjectAccess`` / ``removeProjectAccess`` on a private type."""
    body = call.body()
    schemas.validate(ACCESS_ACTION, body)
    action, args = next(iter(body.items()))
    call.require_admin(f"volume_extension:volume_type_access:{action}")
    vtype = get_type(call, type_id)
    if vtype.is_public:
        raise exceptions.InvalidVolumeType(
            reason="Type access modification is not applicable to public volume type."
        )
    project = args["project"]
    if not Project.objects.filter(pk=project).exists():
        raise Fault(404, f"Project {project} could not be found.")
    if action == "addProjectAccess":
        try:
            with transaction.atomic():
                VolumeTypeAccess.objects.create(volume_type=vtype, project_id=project)
        except IntegrityError:
            raise Fault(
                409,
                f"Volume type access for {vtype.id}/{project} combination already exists.",
            ) from None
    elif not VolumeTypeAccess.objects.filter(volume_type=vtype, project_id=project).delete()[0]:
        raise Fault(404, f"Volume type access not found for {vtype.id}/{project} combination.")
    return 202, None
