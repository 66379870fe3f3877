"""/qos-specs: QoS specs, their keys and their volume types (admins only), as
cinder/api/contrib/qos_specs_manage.py and cinder/volume/qos_specs.py."""

from django.db import IntegrityError, transaction

from core.cinder import exceptions
from core.cinder.models import VolumeType
from core.cinder.type_models import QOS_CONSUMERS, QualityOfServiceSpecs
from volumes.rest import builders, listing, schemas
from volumes.rest.faults import Fault
from volumes.rest.routing import Call
from volumes.rest.volumes import parse_uuid

SORT_KEYS = {"id": "id", "name": "name", "consumer": "consumer", "created_at": "created_at"}
CREATE = {
    "type": "object",
    "properties": {
        "qos_specs": {
            "type": "object",
            "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 255}},
            "required": ["name"],
            "additionalProperties": True,
        }
    },
    "required": ["qos_specs"],
    "additionalProperties": False,
}
SET_KEYS = {
    "type": "object",
    "properties": {"qos_specs": schemas.extra_specs_create["properties"]["extra_specs"]},
    "required": ["qos_specs"],
    "additionalProperties": False,
}
UNSET_KEYS = {
    "type": "object",
    "properties": {
        "keys": {
            "type": "array",
            "items": {"type": "string", "minLength": 1, "maxLength": 255},
            "uniqueItems": True,
        }
    },
    "required": ["keys"],
    "additionalProperties": False,
}


def _get(call: Call, specs_id: str) -> QualityOfServiceSpecs:
    call.require_admin("volume_extension:qos_specs_manage:get")
    found = parse_uuid(specs_id)
    specs = QualityOfServiceSpecs.objects.filter(id=found).first() if found else None
    if specs is None:
        raise Fault(404, f"No such QoS spec {specs_id}.")
    return specs


def _view(call: Call, specs: QualityOfServiceSpecs) -> dict:
    return {
        "id": str(specs.id),
        "name": specs.name,
        "consumer": specs.consumer,
        "specs": specs.specs,
    }


def _detail(call: Call, specs: QualityOfServiceSpecs) -> dict:
    return {"qos_specs": _view(call, specs), "links": builders.links(call, "qos-specs", specs.id)}


def _check_values(specs: dict) -> None:
    """Cinder's validate_dictionary_string_length: string keys and values, 255 at most."""
    for key, value in specs.items():
        for what, text in (("key", key), ("value", value)):
            if not isinstance(text, str) or not 0 < len(text) <= 255:
                raise exceptions.InvalidInput(
                    reason=f"QoS specs {what} {text!r} must be a string of 1 to 255 characters."
                )


def _consumer(value) -> str:
    if value not in QOS_CONSUMERS:
        raise Fault(
            400, f"Invalid QoS specs: Valid consumer of QoS specs are: {', '.join(QOS_CONSUMERS)}"
        )
    return value


def list_specs(call: Call) -> tuple[int, dict]:
    call.require_admin("volume_extension:qos_specs_manage:get_all")
    rows = QualityOfServiceSpecs.objects.all()
    for key in ("id", "name", "consumer"):
        if key in call.request.GET:
            rows = rows.filter(**{key: call.request.GET[key]})
    rows = rows.order_by(*listing.sort_keys(call, SORT_KEYS))
    items, links, _ = listing.paginate(call, rows, "qos-specs")
    body = {"qos_specs": [_view(call, s) for s in items]}
    if links:
        body["qos_specs_links"] = links
    return 200, body


def create(call: Call) -> tuple[int, dict]:
    call.require_admin("volume_extension:qos_specs_manage:create")
    body = call.body()
    schemas.validate(CREATE, body)
    specs = dict(body["qos_specs"])
    name = specs.pop("name").strip()
    if not name:
        raise exceptions.InvalidInput(reason="QoS specs name can not be empty.")
    _check_values(specs)
    consumer = _consumer(specs.pop("consumer")) if "consumer" in specs else "back-end"
    try:
        with transaction.atomic():
            created = QualityOfServiceSpecs.objects.create(
                name=name, consumer=consumer, specs=specs
            )
    except IntegrityError:
        raise Fault(409, f"QoS Specs {name} already exists.") from None
    return 200, _detail(call, created)


def show(call: Call, specs_id: str) -> tuple[int, dict]:
    return 200, _detail(call, _get(call, specs_id))


def _locked(call: Call, specs_id: str) -> QualityOfServiceSpecs:
    """The specs, locked until the caller's transaction ends (keys change one by one)."""
    return QualityOfServiceSpecs.objects.select_for_update().get(pk=_get(call, specs_id).pk)


def set_keys(call: Call, specs_id: str) -> tuple[int, dict]:
    """PUT: add or change keys (``consumer`` moves the consumer); the answer echoes them."""
    call.require_admin("volume_extension:qos_specs_manage:update")
    body = call.body()
    schemas.validate(SET_KEYS, body)
    with transaction.atomic():
        specs = _locked(call, specs_id)
        values = dict(body["qos_specs"])
        _check_values(values)
        if "consumer" in values:
            specs.consumer = _consumer(values.pop("consumer"))
        specs.specs = {**specs.specs, **values}
        specs.save()
    return 200, body


def delete(call: Call, specs_id: str) -> tuple[int, None]:
    """Refused while types use the specs, unless ``force`` (then they are let go)."""
    call.require_admin("volume_extension:qos_specs_manage:delete")
    specs = _get(call, specs_id)
    force = schemas.truthy(call.request.GET.get("force", "false"))
    with transaction.atomic():
        in_use = VolumeType.objects.filter(qos_specs=specs)
        if in_use.exists():
            if not force:
                raise Fault(400, "Qos specs still in use.")
            in_use.update(qos_specs=None)
        specs.delete()
    return 202, None


def delete_keys(call: Call, specs_id: str) -> tuple[int, None]:
    """Keys go one by one until one is missing (404), as Cinder's delete_keys does."""
    call.require_admin("volume_extension:qos_specs_manage:delete")
    body = call.body()
    schemas.validate(UNSET_KEYS, body)
    with transaction.atomic():
        specs = _locked(call, specs_id)
        missing = None
        for key in body["keys"]:
            if key not in specs.specs:
                missing = key
                break
            del specs.specs[key]
        specs.save()
    if missing is not None:
        raise Fault(404, f"QoS spec {specs.id} has no spec with key {missing}.")
    return 202, None


def associations(call: Call, specs_id: str) -> tuple[int, dict]:
    specs = _get(call, specs_id)
    types = VolumeType.objects.filter(qos_specs=specs).order_by("name")
    found = [{"association_type": "volume_type", "name": t.name, "id": str(t.id)} for t in types]
    return 200, {"qos_associations": found}


def _type_param(call: Call) -> VolumeType:
    type_id = call.request.GET.get("vol_type_id")
    if not type_id:
        raise Fault(400, "Volume Type id must not be None.")
    found = parse_uuid(type_id)
    vtype = VolumeType.objects.filter(id=found).first() if found else None
    if vtype is None:
        raise exceptions.VolumeTypeNotFound(volume_type_id=type_id)
    return vtype


def associate(call: Call, specs_id: str) -> tuple[int, None]:
    """GET, as Cinder routes it: a type has at most one QoS specs."""
    call.require_admin("volume_extension:qos_specs_manage:update")
    specs = _get(call, specs_id)
    vtype = _type_param(call)
    changed = VolumeType.objects.filter(id=vtype.id, qos_specs__isnull=True).update(qos_specs=specs)
    if not changed:
        current = VolumeType.objects.values_list("qos_specs_id", flat=True).get(id=vtype.id)
        if current != specs.id:
            raise exceptions.InvalidVolumeType(
                reason=f"Type {vtype.id} is already associated with another qos specs: {current}"
            )
    return 202, None


def disassociate(call: Call, specs_id: str) -> tuple[int, None]:
    call.require_admin("volume_extension:qos_specs_manage:update")
    specs = _get(call, specs_id)
    VolumeType.objects.filter(id=_type_param(call).id, qos_specs=specs).update(qos_specs=None)
    return 202, None


def disassociate_all(call: Call, specs_id: str) -> tuple[int, None]:
    call.require_admin("volume_extension:qos_specs_manage:update")
    VolumeType.objects.filter(qos_specs=_get(call, specs_id)).update(qos_specs=None)
    return 202, None
