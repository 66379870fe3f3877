"""Request bodies as JSON Schema (Draft 4, as Cinder's validators), to Cinder's rules.

Two checks Cinder makes beyond the schema live in :func:`validate`: names
and descriptions are stripped before their 255-character limit, and a
string size is range-checked as a number.
"""

import copy

import jsonschema

from volumes.rest.faults import Fault
from volumes.rest.microversion import APIVersion

DB_MAX_INT = 2147483647
UUID_PATTERN = (
    r"^(\{)?[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
    r"[0-9a-fA-F]{12}(\})?$"
)
uuid_or_null = {"type": ["string", "null"], "pattern": UUID_PATTERN}
name_or_null = {"type": ["string", "null"]}  # length checked after stripping
size_or_null = {
    "type": ["integer", "string", "null"],
    "pattern": "^[0-9]+$",
    "minimum": 1,
    "maximum": DB_MAX_INT,
}
size = {"type": ["integer", "string"], "pattern": "^[0-9]+$", "minimum": 1, "maximum": DB_MAX_INT}
boolean_ish = {
    "type": ["boolean", "string", "null"],
    "enum": [
        True,
        False,
        None,
        "True",
        "true",
        "False",
        "false",
        "1",
        "0",
        "yes",
        "no",
        "y",
        "n",
        "on",
        "off",
        "t",
        "f",
    ],
}
MAX_METADATA_ITEMS = 128  # Nova's and Glance's default for metadata items; Cinder has none
metadata = {
    "type": ["object", "null"],
    "maxProperties": MAX_METADATA_ITEMS,
    "patternProperties": {
        "^[a-zA-Z0-9-_:. /]{1,255}$": {"type": "string", "maxLength": 255},
    },
    "additionalProperties": False,
}
metadata_required = {**metadata, "type": "object"}
uuid_or_list = {
    "oneOf": [
        {"type": "string", "pattern": UUID_PATTERN},
        {
            "type": "array",
            "items": {"type": "string", "pattern": UUID_PATTERN},
            "uniqueItems": True,
        },
    ]
}
scheduler_hints = {
    "type": ["object", "null"],
    "properties": {
        "same_host": uuid_or_list,
        "different_host": uuid_or_list,
        "local_to_instance": {"type": "string", "pattern": UUID_PATTERN},
        "query": {"type": ["string", "object"]},
    },
    "additionalProperties": True,
}

_VOLUME_CREATE_BASE = {
    "name": name_or_null,
    "description": name_or_null,
    "display_name": name_or_null,
    "display_description": name_or_null,
    "size": size_or_null,
    "volume_type": {"type": ["string", "null"], "maxLength": 255},
    "availability_zone": {"type": ["string", "null"], "minLength": 1, "maxLength": 255},
    "metadata": metadata,
    "snapshot_id": uuid_or_null,
    "source_volid": uuid_or_null,
    "consistencygroup_id": uuid_or_null,
    "imageRef": {"type": ["string", "null"], "maxLength": 255},
    "image_id": {"type": ["string", "null"], "maxLength": 255},
    "multiattach": boolean_ish,
}


def volume_create(version: APIVersion) -> dict:
    """Cinder's create, create_volume_v313, v347 and v353 schemas by version."""
    properties = dict(_VOLUME_CREATE_BASE)
    if version.at_least("3.13"):
        properties["group_id"] = {"type": ["string", "null"], "maxLength": 255}
    if version.at_least("3.47"):
        properties["backup_id"] = uuid_or_null
    volume = {"type": "object", "properties": properties}
    if version.at_least("3.53"):
        volume["additionalProperties"] = False
    return {
        "type": "object",
        "properties": {"volume": volume, "OS-SCH-HNT:scheduler_hints": scheduler_hints},
        "required": ["volume"],
        "additionalProperties": False,
    }


def volume_update(version: APIVersion) -> dict:
    volume = {
        "type": "object",
        "properties": {
            "name": name_or_null,
            "description": name_or_null,
            "display_name": name_or_null,
            "display_description": name_or_null,
            "metadata": metadata,
        },
        "additionalProperties": False,
    }
    if version.at_least("3.53"):
        volume["anyOf"] = [
            {"required": [key]}
            for key in ("name", "description", "display_name", "display_description", "metadata")
        ]
    return {
        "type": "object",
        "properties": {"volume": volume},
        "required": ["volume"],
        "additionalProperties": False,
    }


# A snapshot's name and description, in either spelling.
snapshot_names = {
    key: name_or_null for key in ("name", "description", "display_name", "display_description")
}
snapshot_create = {
    "type": "object",
    "properties": {
        "snapshot": {
            "type": "object",
            "properties": {
                **snapshot_names,
                "volume_id": {"type": ["string", "null"], "pattern": UUID_PATTERN},
                "force": boolean_ish,
                "metadata": metadata,
            },
            "required": ["volume_id"],
            "additionalProperties": False,
        }
    },
    "required": ["snapshot"],
    "additionalProperties": False,
}

snapshot_update = {
    "type": "object",
    "properties": {
        "snapshot": {
            "type": "object",
            "properties": snapshot_names,
            "additionalProperties": False,
            "anyOf": [{"required": [key]} for key in snapshot_names],
        }
    },
    "required": ["snapshot"],
    "additionalProperties": False,
}

quota_value = {
    "type": ["integer", "string"],
    "pattern": "^-?[0-9]+$",
    "minimum": -1,
    "maximum": DB_MAX_INT,
}
quota_update = {
    "type": "object",
    "properties": {
        "quota_set": {
            "type": "object",
            "minProperties": 1,
            # cinderclient sends tenant_id along; Cinder ignores it and id.
            "properties": {"tenant_id": {"type": "string"}, "id": {"type": "string"}},
            "additionalProperties": quota_value,
        }
    },
    "required": ["quota_set"],
    "additionalProperties": False,
}

extra_specs_create = {
    "type": "object",
    "properties": {
        "extra_specs": {
            "type": "object",
            "patternProperties": {
                "^[a-zA-Z0-9-_:. /]{1,255}$": {"type": "string", "maxLength": 255}
            },
            "additionalProperties": False,
        }
    },
    "required": ["extra_specs"],
    "additionalProperties": False,
}


def _message(error: jsonschema.ValidationError) -> str:
    path = "/".join(str(p) for p in error.absolute_path) or "body"
    value = error.instance
    text = repr(value) if not isinstance(value, dict | list) else "..."
    if len(text) > 100:
        text = text[:100] + "..."
    return f"Invalid input for field/attribute {path}. Value: {text}. {error.message}"


def validate(schema: dict, body: dict) -> None:
    """Raise 400 with Cinder's wording on the first schema failure."""
    validator = jsonschema.Draft4Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(body))
    if error is not None:
        raise Fault(400, _message(copy.copy(error)))


def stripped_name(value, field: str) -> str:
    """Cinder's name_non_mandatory_remove_white_spaces: strip, then at most 255."""
    if value is None:
        return ""
    text = value.strip()
    if len(text) > 255:
        raise Fault(
            400, f"Invalid input received: {field} has {len(text)} characters, more than 255."
        )
    return text


def int_size(value) -> int | None:
    """A schema-valid size as an int, range-checked for strings too."""
    if value is None:
        return None
    if isinstance(value, str):
        digits = value.lstrip("0") or "0"
        number = int(digits) if len(digits) <= 12 else DB_MAX_INT + 1
        if number < 1:
            raise Fault(
                400,
                f"Invalid input for field/attribute size. Value: {value}. "
                f"{number} is less than the minimum of 1",
            )
        if number > DB_MAX_INT:
            raise Fault(
                400,
                f"Invalid input for field/attribute size. Value: {value}. "
                f"{value} is greater than the maximum of {DB_MAX_INT}",
            )
        return number
    return value


TRUE_STRINGS = {"true", "1", "yes", "y", "on", "t"}


def truthy(value) -> bool:
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.lower() in TRUE_STRINGS
