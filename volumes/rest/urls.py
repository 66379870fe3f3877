"""Every route twice, as Cinder's ProjectMapper: ``/v3/<route>`` and ``/v3/<project_id>/<route>``.

Project ids must match Cinder's ``project_id_regex`` (``[0-9a-f-]+``).
"""

from django.urls import re_path

from volumes.rest import (
    actions,
    admin_actions,  # noqa: F401 (registers its actions)
    attach_actions,  # noqa: F401 (registers its actions)
    attachments,
    encryption,
    extensions,
    lifecycle_actions,  # noqa: F401 (registers its actions)
    metadata,
    misc,
    qos,
    quotas,
    services,
    snapshot_actions,  # noqa: F401 (registers its actions)
    snapshots,
    transfers,
    types,
    volume_actions,  # noqa: F401 (registers its actions)
    volumes,
    workers,
)
from volumes.rest.routing import not_found, resource
from volumes.rest.versions import version_document

PROJECT = r"^(?:(?P<project_id>[0-9a-f\-]+)/)?"
ID = r"(?P<{}>[^/]+)"


def route(pattern: str, view, name: str):
    return re_path(PROJECT + pattern + r"/?$", view, name=name)


def metadata_routes(collection: str, id_name: str, items) -> list:
    """``/<collection>/<id>/metadata`` and ``.../metadata/<key>``."""

    def by_id(handler):
        return lambda call, **kw: handler(call, kw.pop(id_name), **kw)

    base = f"{collection}/{ID.format(id_name)}/metadata"
    return [
        route(
            base,
            resource(
                GET=by_id(items.index),
                POST=by_id(items.create),
                PUT=by_id(items.update_all),
            ),
            f"{collection}-metadata",
        ),
        route(
            base + "/" + ID.format("key"),
            resource(GET=by_id(items.show), PUT=by_id(items.update), DELETE=by_id(items.delete)),
            f"{collection}-metadata-item",
        ),
    ]


def transfer_routes(collection: str, index, detail, create) -> list:
    """The old extension's path and the v3 one serve the same transfers."""
    one = collection + "/" + ID.format("transfer_id")
    return [
        route(collection, resource(GET=index, POST=create), collection),
        route(collection + "/detail", resource(GET=detail), f"{collection}-detail"),
        route(one, resource(GET=transfers.show, DELETE=transfers.delete), f"{collection}-one"),
        route(one + "/accept", resource(POST=transfers.accept), f"{collection}-accept"),
    ]


app_name = "rest"
urlpatterns = [
    re_path(r"^(?:(?P<project_id>[0-9a-f\-]+)/?)?$", version_document, name="versions"),
    route("volumes", resource(GET=volumes.list_summary, POST=volumes.create), "volumes"),
    route("volumes/detail", resource(GET=volumes.list_detail), "volumes-detail"),
    route("volumes/summary", resource(GET=volumes.summary), "volumes-summary"),
    route(
        "volumes/" + ID.format("volume_id"),
        resource(GET=volumes.show, PUT=volumes.update, DELETE=volumes.delete),
        "volume",
    ),
    *metadata_routes("volumes", "volume_id", metadata.volume_metadata),
    *metadata_routes("snapshots", "snapshot_id", metadata.snapshot_metadata),
    route(
        "volumes/" + ID.format("volume_id") + "/action",
        resource(POST=actions.volume),
        "volume-action",
    ),
    route(
        "snapshots/" + ID.format("snapshot_id") + "/action",
        resource(POST=actions.snapshot),
        "snapshot-action",
    ),
    route("snapshots", resource(GET=snapshots.list_summary, POST=snapshots.create), "snapshots"),
    route("snapshots/detail", resource(GET=snapshots.list_detail), "snapshots-detail"),
    route(
        "snapshots/" + ID.format("snapshot_id"),
        resource(GET=snapshots.show, PUT=snapshots.update, DELETE=snapshots.delete),
        "snapshot",
    ),
    route(
        "attachments",
        resource(GET=attachments.list_summary, POST=attachments.create),
        "attachments",
    ),
    route("attachments/detail", resource(GET=attachments.list_detail), "attachments-detail"),
    route(
        "attachments/" + ID.format("attachment_id"),
        resource(GET=attachments.show, PUT=attachments.update, DELETE=attachments.delete),
        "attachment",
    ),
    route(
        "attachments/" + ID.format("attachment_id") + "/action",
        resource(POST=attachments.action),
        "attachment-action",
    ),
    route("types", resource(GET=types.list_types, POST=types.create_type), "types"),
    route(
        "types/" + ID.format("type_id"),
        resource(GET=types.show_type, PUT=types.update_type, DELETE=types.delete_type),
        "type",
    ),
    route(
        "types/" + ID.format("type_id") + "/action", resource(POST=types.type_action), "type-action"
    ),
    route(
        "types/" + ID.format("type_id") + "/os-volume-type-access",
        resource(GET=types.list_access),
        "type-access",
    ),
    route(
        "types/" + ID.format("type_id") + "/extra_specs",
        resource(GET=types.list_specs, POST=types.set_specs),
        "extra-specs",
    ),
    route(
        "types/" + ID.format("type_id") + "/extra_specs/" + ID.format("key"),
        resource(GET=types.show_spec, PUT=types.update_spec, DELETE=types.delete_spec),
        "extra-spec",
    ),
    route("os-availability-zone", resource(GET=misc.availability_zones), "availability-zones"),
    route(
        "os-quota-sets/" + ID.format("target") + "/defaults",
        resource(GET=quotas.defaults),
        "quota-defaults",
    ),
    route(
        "os-quota-sets/" + ID.format("target"),
        resource(GET=quotas.show, PUT=quotas.update, DELETE=quotas.delete),
        "quota-set",
    ),
    route("limits", resource(GET=quotas.limits), "limits"),
    route("scheduler-stats/get_pools", resource(GET=misc.pools), "pools"),
    route("messages", resource(GET=misc.list_messages), "messages"),
    route("workers/cleanup", resource(POST=workers.cleanup), "workers-cleanup"),
    route(
        "messages/" + ID.format("message_id"),
        resource(GET=misc.show_message, DELETE=misc.delete_message),
        "message",
    ),
    route(
        "types/" + ID.format("type_id") + "/encryption",
        resource(GET=encryption.show, POST=encryption.create),
        "type-encryption",
    ),
    route(
        "types/" + ID.format("type_id") + "/encryption/" + ID.format("item"),
        resource(GET=encryption.show_item, PUT=encryption.update, DELETE=encryption.delete),
        "type-encryption-item",
    ),
    route("extensions", resource(GET=extensions.list_extensions), "extensions"),
    route("os-services", resource(GET=services.list_services), "services"),
    route(
        "os-services/" + ID.format("action"),
        resource(PUT=services.update_service),
        "service-action",
    ),
    route("os-hosts", resource(GET=services.list_hosts), "hosts"),
    route(
        "os-hosts/" + ID.format("host"),
        resource(GET=services.show_host, PUT=services.update_host),
        "host",
    ),
    route("capabilities/" + ID.format("host"), resource(GET=services.capabilities), "capabilities"),
    route(
        "os-quota-class-sets/" + ID.format("class_name"),
        resource(GET=quotas.show_class, PUT=quotas.update_class),
        "quota-class-set",
    ),
    route("qos-specs", resource(GET=qos.list_specs, POST=qos.create), "qos-specs"),
    route(
        "qos-specs/" + ID.format("specs_id"),
        resource(GET=qos.show, PUT=qos.set_keys, DELETE=qos.delete),
        "qos-spec",
    ),
    *[
        route(
            "qos-specs/" + ID.format("specs_id") + "/" + action,
            resource(**{method: handler}),
            f"qos-spec-{action}",
        )
        for action, method, handler in [
            ("delete_keys", "PUT", qos.delete_keys),
            ("associations", "GET", qos.associations),
            ("associate", "GET", qos.associate),
            ("disassociate", "GET", qos.disassociate),
            ("disassociate_all", "GET", qos.disassociate_all),
        ]
    ],
    *transfer_routes(
        "os-volume-transfer", transfers.list_old, transfers.detail_old, transfers.create_old
    ),
    *transfer_routes(
        "volume-transfers", transfers.list_v3, transfers.detail_v3, transfers.create_v3
    ),
    re_path(r"^.*$", not_found(), name="not-found"),
]
