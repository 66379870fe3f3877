"""Volume transfers (cinder/transfer/api.py): offer a volume, accept it with the auth key
in another project, or withdraw the offer.

An offer moves the volume ``available`` -> ``awaiting-transfer`` by compare-and-swap; only
the hash of the auth key (HMAC-SHA1 with a random salt, as Cinder) is kept. Accepting
reserves the volume's quota (and its snapshots', unless the offer left them out) in the
new project and gives it back in the old one, moves the volume and its snapshots by
compare-and-swap, and commits; anything refused on the way rolls every reservation back
and leaves the offer as it was. LVM has nothing to do on the backend for a transfer (the
driver's accept_transfer is a no-op), so no cast is needed.
"""

import hashlib
import hmac
import secrets
import uuid

from django.db import transaction
from django.utils import timezone

from core.cinder import exceptions, quota
from core.cinder.models import Snapshot, Transfer, Volume

SALT_LENGTH = 8  # volume_transfer_salt_length
KEY_LENGTH = 16  # volume_transfer_key_length


class TransferNotFound(exceptions.NotFound):
    message = "Transfer %(transfer_id)s could not be found."


class InvalidAuthKey(exceptions.Invalid):
    message = "Invalid auth key: %(reason)s"


def _random_hex(length: int) -> str:
    return secrets.token_hex(length)[:length]


def crypt_hash(salt: str, auth_key) -> str:
    return hmac.new(salt.encode(), str(auth_key).encode(), hashlib.sha1).hexdigest()


def live() -> "Transfer.objects":
    return Transfer.objects.filter(deleted_at__isnull=True)


def visible(context: dict):
    """Offers of the caller's project's volumes (every offer, for the cloud admin)."""
    offers = live().select_related("volume")
    return (
        offers if context["is_admin"] else offers.filter(volume__project_id=context["project_id"])
    )


def _find(offers, transfer_id: str) -> Transfer:
    try:
        found = offers.filter(id=uuid.UUID(str(transfer_id))).first()
    except ValueError:
        found = None
    if found is None:
        raise TransferNotFound(transfer_id=transfer_id)
    return found


def get(context: dict, transfer_id: str) -> Transfer:
    return _find(visible(context), transfer_id)


def create(context: dict, volume: Volume, name: str | None, no_snapshots: bool) -> tuple:
    """The new offer and its auth key (shown once)."""
    if volume.status != "available":
        raise exceptions.InvalidVolume(reason="status must be available")
    if not no_snapshots:
        for snapshot_id, status in volume.snapshots.values_list("id", "status"):
            if status != "available":
                raise exceptions.InvalidSnapshot(
                    reason=f"snapshot: {snapshot_id} status must be available"
                )
    salt, auth_key = _random_hex(SALT_LENGTH), _random_hex(KEY_LENGTH)
    with transaction.atomic():
        if not Volume.conditional_update(
            volume.id, {"status": "available"}, status="awaiting-transfer"
        ):
            raise exceptions.InvalidVolume(
                reason=f"Volume id {volume.id} expected in available state."
            )
        offer = Transfer.objects.create(
            volume=volume,
            display_name=name,
            salt=salt,
            crypt_hash=crypt_hash(salt, auth_key),
            no_snapshots=no_snapshots,
            source_project_id=volume.project_id,
        )
    return offer, auth_key


def delete(context: dict, transfer_id) -> None:
    """Withdraw an offer: the volume is ``available`` again (if it still awaits)."""
    offer = get(context, transfer_id)
    with transaction.atomic():
        Volume.conditional_update(
            offer.volume_id, {"status": "awaiting-transfer"}, status="available"
        )
        live().filter(id=offer.id).update(deleted_at=timezone.now())


def accept(context: dict, transfer_id, auth_key) -> Transfer:
    """Take the volume (and its snapshots) into the caller's project."""
    offer = _find(live().select_related("volume", "volume__volume_type"), transfer_id)
    if not hmac.compare_digest(crypt_hash(offer.salt, auth_key), offer.crypt_hash):
        raise InvalidAuthKey(reason=f"Attempt to transfer {transfer_id} with invalid auth key.")
    volume = offer.volume
    if volume.status == "maintenance":
        raise exceptions.InvalidVolume(
            reason="The volume cannot accept transfer in maintenance mode."
        )
    recipient, donor = context["project_id"], volume.project_id
    quota.limit_check(recipient, per_volume_gigabytes=volume.size)
    snapshots = [] if offer.no_snapshots else list(volume.snapshots.all())
    deltas = _deltas(volume, snapshots)
    reservations = quota.reserve(recipient, deltas)
    try:
        reservations += quota.reserve(donor, {k: -v for k, v in deltas.items()})
        with transaction.atomic():
            _move(offer, volume, snapshots, context)
            quota.commit(reservations)
    except Exception:
        quota.rollback(reservations)
        raise
    offer.refresh_from_db()
    return offer


def _deltas(volume: Volume, snapshots: list[Snapshot]) -> dict[str, int]:
    type_name = volume.volume_type.name
    deltas = quota.volume_deltas(volume.size, type_name)
    if snapshots:
        snapshot_deltas = quota.add_volume_type_opts(
            {"snapshots": len(snapshots), "gigabytes": sum(s.volume_size for s in snapshots)},
            type_name,
        )
        for resource, delta in snapshot_deltas.items():
            deltas[resource] = deltas.get(resource, 0) + delta
    return deltas


def _move(offer: Transfer, volume: Volume, snapshots: list[Snapshot], context: dict) -> None:
    """Inside the caller's transaction: every compare-and-swap wins, or nothing moves."""
    owner = {"project_id": context["project_id"], "user_id": context["user_id"]}
    if not Volume.conditional_update(
        volume.id, {"status": "awaiting-transfer"}, status="available", **owner
    ):
        raise exceptions.InvalidVolume(
            reason=f"Transfer {offer.id}: Volume id {volume.id} expected in awaiting-transfer "
            "state."
        )
    for snapshot in snapshots:
        if not Snapshot.conditional_update(snapshot.id, {"status": "available"}, **owner):
            raise exceptions.InvalidSnapshot(
                reason=f"Transfer {offer.id}: Snapshot {snapshot.id} is not in the expected "
                "available state."
            )
    Transfer.objects.filter(id=offer.id).update(
        deleted_at=timezone.now(), accepted=True, destination_project_id=context["project_id"]
    )
