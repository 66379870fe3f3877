"""``/volumes/{id}/metadata`` and ``/snapshots/{id}/metadata``, with ``/{key}`` items
(Cinder's ``volume_metadata.py`` and ``snapshot_metadata.py``). From 3.15 a volume's metadata
carries an ETag, and updates with ``If-Match`` are refused (412) when it changed."""

import hashlib
import json

from volumes.lifecycle import metadata as metadata_api
from volumes.rest import schemas
from volumes.rest.faults import Fault
from volumes.rest.routing import Call
from volumes.rest.volumes import get_snapshot, get_volume

CREATE = {
    "type": "object",
    "properties": {"metadata": schemas.metadata_required},
    "required": ["metadata"],
    "additionalProperties": False,
}
UPDATE = {
    "type": "object",
    "properties": {"meta": {**schemas.metadata_required, "minProperties": 1, "maxProperties": 1}},
    "required": ["meta"],
    "additionalProperties": False,
}
ETAGS = "3.15"


def etag(metadata: dict) -> str:
    data = json.dumps({"metadata": metadata}).encode()
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


class MetadataResource:
    """The metadata of the resources ``lookup`` finds; ETags when ``etags`` is set."""

    def __init__(self, lookup, etags: bool):
        self.lookup = lookup
        self.etags = etags

    def _with_etags(self, call: Call) -> bool:
        return self.etags and call.version.at_least(ETAGS)

    def _precondition_failed(self, call: Call, resource) -> bool:
        wanted = call.request.headers.get("If-Match")
        if not wanted or not self._with_etags(call):
            return False
        tags = {tag.strip().strip('"') for tag in wanted.split(",")}
        return "*" not in tags and etag(resource.metadata or {}) not in tags

    def index(self, call: Call, resource_id: str):
        metadata = dict(self.lookup(call, resource_id).metadata or {})
        if self._with_etags(call):
            return 200, {"metadata": metadata}, {"ETag": etag(metadata)}
        return 200, {"metadata": metadata}

    def create(self, call: Call, resource_id: str):
        resource = self.lookup(call, resource_id)
        body = call.body()
        schemas.validate(CREATE, body)
        return 200, {"metadata": metadata_api.update(resource, body["metadata"])}

    def update_all(self, call: Call, resource_id: str):
        resource = self.lookup(call, resource_id)
        if self._precondition_failed(call, resource):
            return 412, None
        body = call.body()
        schemas.validate(CREATE, body)
        return 200, {"metadata": metadata_api.update(resource, body["metadata"], replace=True)}

    def show(self, call: Call, resource_id: str, key: str):
        metadata = self.lookup(call, resource_id).metadata or {}
        if key not in metadata:
            raise metadata_api.not_found(self.lookup(call, resource_id), key)
        return 200, {"meta": {key: metadata[key]}}

    def update(self, call: Call, resource_id: str, key: str):
        resource = self.lookup(call, resource_id)
        if self._precondition_failed(call, resource):
            return 412, None
        body = call.body()
        meta = body.get("meta")
        if isinstance(meta, dict) and key not in meta:
            raise Fault(400, "Request body and URI mismatch")
        if isinstance(meta, dict) and len(meta) > 1:
            raise Fault(400, "Request body contains too many items")
        schemas.validate(UPDATE, body)
        metadata_api.update(resource, meta)
        return 200, {"meta": meta}

    def delete(self, call: Call, resource_id: str, key: str):
        metadata_api.delete(self.lookup(call, resource_id), key)
        return 200, None


volume_metadata = MetadataResource(get_volume, etags=True)
snapshot_metadata = MetadataResource(get_snapshot, etags=False)
