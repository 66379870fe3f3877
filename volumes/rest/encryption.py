"""/types/{id}/encryption: a volume type's encryption, for admins
(cinder/api/contrib/volume_type_encryption.py). Refused while volumes use the type."""

from django.db import transaction
from django.utils import timezone

from core.cinder.models import Volume
from core.cinder.type_models import CONTROL_LOCATIONS, VolumeTypeEncryption
from volumes.rest import builders, schemas
from volumes.rest.faults import Fault
from volumes.rest.routing import Call
from volumes.rest.types import get_type

FIELDS = ("provider", "cipher", "key_size", "control_location")
ENCRYPTION = {
    "type": "object",
    "properties": {
        "key_size": {
            "type": ["string", "integer", "null"],
            "pattern": "^[0-9]+$",
            "minimum": 0,
            "maximum": schemas.DB_MAX_INT,
        },
        "provider": {"type": "string", "minLength": 0, "maxLength": 255},
        "control_location": {"enum": CONTROL_LOCATIONS},
        "cipher": {"type": ["string", "null"], "minLength": 0, "maxLength": 255},
    },
    "required": ["provider", "control_location"],
    "additionalProperties": True,
}


def _body_schema(required: bool) -> dict:
    inner = dict(ENCRYPTION, required=ENCRYPTION["required"] if required else [])
    return {
        "type": "object",
        "properties": {"encryption": inner},
        "required": ["encryption"],
        "additionalProperties": False,
    }


def _values(body: dict) -> dict:
    """The known fields of the request (key_size as a number); Cinder echoes the rest."""
    values = {k: v for k, v in body["encryption"].items() if k in FIELDS}
    if values.get("key_size") is not None:
        values["key_size"] = body["encryption"]["key_size"] = int(values["key_size"])
    return values


def _refuse_in_use(vtype, verb: str) -> None:
    if Volume.objects.filter(volume_type=vtype).exists():
        raise Fault(400, f"Cannot {verb} encryption specs. Volume type in use.")


def _specs(encryption: VolumeTypeEncryption | None) -> dict:
    if encryption is None:
        return {}
    return {
        "volume_type_id": str(encryption.volume_type_id),
        "encryption_id": str(encryption.encryption_id),
        "provider": encryption.provider,
        "cipher": encryption.cipher,
        "key_size": encryption.key_size,
        "control_location": encryption.control_location,
        "created_at": builders.isotime(encryption.created_at),
        "updated_at": builders.isotime(encryption.updated_at),
        "deleted": False,
        "deleted_at": None,
    }


def _not_found(vtype) -> Fault:
    return Fault(404, f"Volume type encryption for type {vtype.id} does not exist.")


def show(call: Call, type_id: str) -> tuple[int, dict]:
    """The type's encryption, or ``{}`` when it has none."""
    call.require_admin("volume_extension:volume_type_encryption:get")
    vtype = get_type(call, type_id)
    return 200, _specs(VolumeTypeEncryption.objects.filter(volume_type=vtype).first())


def show_item(call: Call, type_id: str, item: str) -> tuple[int, dict]:
    """One field of the encryption (``item`` names it)."""
    call.require_admin("volume_extension:volume_type_encryption:get")
    vtype = get_type(call, type_id)
    specs = _specs(VolumeTypeEncryption.objects.filter(volume_type=vtype).first())
    if item not in specs:
        raise _not_found(vtype)
    return 200, {item: specs[item]}


def _request(call: Call, type_id: str, verb: str) -> tuple[dict, dict, object]:
    """(body, values, volume type) of a create or update, refused while the type is used."""
    call.require_admin(f"volume_extension:volume_type_encryption:{verb}")
    body = call.body()
    schemas.validate(_body_schema(required=verb == "create"), body)
    values = _values(body)
    vtype = get_type(call, type_id)
    _refuse_in_use(vtype, verb)
    return body, values, vtype


def create(call: Call, type_id: str) -> tuple[int, dict]:
    body, values, vtype = _request(call, type_id, "create")
    with transaction.atomic():
        if VolumeTypeEncryption.objects.filter(volume_type=vtype).exists():
            raise Fault(400, f"Volume type encryption for type {vtype.id} already exists.")
        created = VolumeTypeEncryption.objects.create(volume_type=vtype, **values)
    body["encryption"].update(
        volume_type_id=str(vtype.id), encryption_id=str(created.encryption_id)
    )
    return 200, body


def update(call: Call, type_id: str, item: str) -> tuple[int, dict]:
    """``item`` is the encryption id, which Cinder does not check."""
    body, values, vtype = _request(call, type_id, "update")
    changed = VolumeTypeEncryption.objects.filter(volume_type=vtype).update(
        **values, updated_at=timezone.now()
    )
    if not changed:
        raise _not_found(vtype)
    return 200, body


def delete(call: Call, type_id: str, item: str) -> tuple[int, None]:
    call.require_admin("volume_extension:volume_type_encryption:delete")
    vtype = get_type(call, type_id)
    _refuse_in_use(vtype, "delete")
    if not VolumeTypeEncryption.objects.filter(volume_type=vtype).delete()[0]:
        raise _not_found(vtype)
    return 202, None
