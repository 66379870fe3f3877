"""View builders: ORM rows to Cinder's JSON shapes, by microversion and role."""

from datetime import timedelta

from core.cinder.models import Volume, VolumeType
from volumes.rest.routing import Call

# Internal statuses Cinder maps before showing them.
SHOWN_STATUS = {
    "managing": "creating",
    "error_managing": "error",
    "error_managing_deleting": "deleting",
}
# Extra specs a non-admin may see (Cinder's user-visible keys).


# Cinder's message_ttl: a user message is kept at least this long.
MESSAGE_TTL = timedelta(seconds=2592000)


def isotime(value) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f") if value else None


def links(call: Call, collection: str, item_id) -> list[dict]:
    return [
        {"rel": "self", "href": f"{call.prefix}/{collection}/{item_id}"},
        {"rel": "bookmark", "href": f"{call.base_url}/{collection}/{item_id}"},
    ]


def volume_summary(call: Call, volume: Volume) -> dict:
    return {
        "id": str(volume.id),
        "name": volume.display_name,
        "links": links(call, "volumes", volume.id),
    }


def _uuid(value) -> str | None:
    return str(value) if value else None


def attachments(volume: Volume) -> list[dict]:
    """Cinder's view lists only the attachments that are ``attached``."""
    return [
        {
            "server_id": _uuid(a.instance_uuid),
            "attachment_id": str(a.id),
            "attached_at": isotime(a.attach_time),
            "host_name": a.attached_host or None,
            "volume_id": str(volume.id),
            "device": a.mountpoint or None,
            "id": str(volume.id),
        }
        for a in volume.attachments.all()
        if a.attach_status == "attached"
    ]


def volume_detail(call: Call, volume: Volume, extensions: bool = True) -> dict:
    """Cinder's detail view; ``extensions`` adds the tenant/host attributes (show/list)."""
    admin, version = call.caller.is_admin, call.version
    body = {
        "id": str(volume.id),
        "status": SHOWN_STATUS.get(volume.status, volume.status),
        "size": volume.size,
        "availability_zone": volume.availability_zone or None,
        "created_at": isotime(volume.created_at),
        "updated_at": isotime(volume.updated_at),
        "name": volume.display_name,
        "description": volume.display_description,
        "volume_type": volume.volume_type.name,
        "snapshot_id": _uuid(volume.snapshot_id),
        "source_volid": _uuid(volume.source_volid),
        "metadata": dict(volume.metadata or {}),
        "links": links(call, "volumes", volume.id),
        "user_id": str(volume.user_id),
        "bootable": "true" if volume.bootable else "false",
        "encrypted": False,
        "replication_status": None,
        "consistencygroup_id": None,
        "multiattach": volume.multiattach,
        "attachments": attachments(volume),
    }
    if admin:
        body["migration_status"] = volume.migration_status or None
    if version.at_least("3.13"):
        body["group_id"] = None
    if admin and version.at_least("3.21"):
        body["provider_id"] = None
    if version.at_least("3.48"):
        # Before 3.69 a null shared_targets is shown as true; LVM/iSCSI shares no targets.
        body["shared_targets"] = False
        body["service_uuid"] = None
    if admin and version.at_least("3.61"):
        body["cluster_name"] = None
    if version.at_least("3.63"):
        body["volume_type_id"] = str(volume.volume_type_id)
    if version.at_least("3.65"):
        body["consumes_quota"] = volume.use_quota
    if extensions:
        body["os-vol-tenant-attr:tenant_id"] = volume.project_id
        if admin:
            body["os-vol-host-attr:host"] = volume.host
            body["os-vol-mig-status-attr:migstat"] = volume.migration_status or None
            body["os-vol-mig-status-attr:name_id"] = _uuid(volume.name_id)
    return body


def snapshot(call: Call, snap, view: str = "detail") -> dict:
    """A snapshot as Cinder's views show it: ``summary`` (the plain list) has the base
    fields; ``detail`` (create, update) adds each field from the microversion that brought
    it; ``extended`` (show and the detail list) also the os-extended-snapshot-attributes."""
    body = {
        "id": str(snap.id),
        "created_at": isotime(snap.created_at),
        "updated_at": isotime(snap.updated_at),
        "name": snap.display_name,
        "description": snap.display_description,
        "volume_id": str(snap.volume_id),
        "status": snap.status,
        "size": snap.volume_size,
        "metadata": dict(snap.metadata or {}),
    }
    if view == "summary":
        return body
    if call.version.at_least("3.14"):
        body["group_snapshot_id"] = None
    if call.version.at_least("3.41"):
        body["user_id"] = str(snap.user_id)
    if call.version.at_least("3.65"):
        body["consumes_quota"] = snap.use_quota
    if view == "extended":
        body["os-extended-snapshot-attributes:project_id"] = snap.project_id
        body["os-extended-snapshot-attributes:progress"] = snap.progress or None
    return body


def volume_type(call: Call, vtype: VolumeType, answer: str = "show") -> dict:
    """A volume type as Cinder shows it.

    ``show`` (show and list: cinder/api/v3/views/types.py) adds ``qos_specs_id`` for admins;
    the create and update answers come from the older view in types_manage, without it.
    The os-volume-type-access extension adds its ``is_public`` to show, list and create,
    for members and admins (not readers).
    """
    body = {
        "id": str(vtype.id),
        "name": vtype.name,
        "is_public": vtype.is_public,
        "description": vtype.description or None,
        "extra_specs": vtype.visible_extra_specs(call.caller.is_admin),
    }
    if answer == "show" and call.caller.is_admin:
        body["qos_specs_id"] = _uuid(vtype.qos_specs_id)
    if answer in ("show", "create") and call.caller.may_change:
        body["os-volume-type-access:is_public"] = vtype.is_public
    return body


def message(call: Call, row) -> dict:
    return {
        "id": str(row.id),
        "event_id": row.event_id,
        "user_message": row.user_message,
        "message_level": row.message_level,
        "resource_type": row.resource_type,
        "resource_uuid": _uuid(row.resource_uuid),
        "request_id": row.request_id,
        "created_at": isotime(row.created_at),
        "guaranteed_until": isotime(row.created_at + MESSAGE_TTL),
        "links": links(call, "messages", row.id),
    }
