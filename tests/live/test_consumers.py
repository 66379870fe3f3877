"""The consumers on the real Redis channel layer, driven by Channels' communicator."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from core.cinder.models import Membership, Volume, VolumeType
from core.kernel import events
from core.kernel.live import FORBIDDEN
from tests.live.support import in_db_thread, logged_in
from volumes.consumers import VolumeConsumer

pytestmark = pytest.mark.integration


@pytest.fixture
def volume(world) -> Volume:
    return Volume.objects.create(
        project=world.project,
        user=world.owner,
        display_name="v-0",
        size=1,
        status="available",
        volume_type=VolumeType.default(),
    )


def communicator(volume, user) -> WebsocketCommunicator:
    comm = WebsocketCommunicator(VolumeConsumer.as_asgi(), f"/ws/volumes/{volume.id}/")
    logged_in(comm, user)
    comm.scope["url_route"] = {"kwargs": {"volume_id": volume.id}}
    return comm


def run(scenario):
    """Run an async scenario on its own loop in its own thread.

    (Playwright's sync API may already own this thread's loop in a full run.)
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, scenario()).result(timeout=120)


def nudge(volume) -> dict:
    return {"type": "volume.changed", "volume_id": str(volume.id), "kind": "flow"}


def test_a_burst_of_nudges_is_coalesced_and_ends_with_the_final_picture(world, volume):
    async def scenario():
        comm = communicator(volume, world.member)
        connected, _ = await comm.connect(timeout=10)
        assert connected
        first = await comm.receive_from(timeout=10)
        layer = get_channel_layer()
        for i in range(1, 51):
            await in_db_thread(Volume.objects.filter(id=volume.id).update, display_name=f"v-{i}")
            # Several watchers' worth of nudges per change, faster than renders.
            group = events.volume_group(volume.id)
            await asyncio.gather(*(layer.group_send(group, nudge(volume)) for _ in range(4)))
        pictures = []
        # receive_nothing waits without cancelling the consumer (a receive timeout would).
        while not await comm.receive_nothing(timeout=3, interval=0.05):
            pictures.append(await comm.receive_from(timeout=10))
        await comm.disconnect()
        return first, pictures

    first, pictures = run(scenario)

    assert 'data-volume-name="v-0"' in first
    assert pictures and 'data-volume-name="v-50"' in pictures[-1]
    assert len(pictures) < 200  # coalesced: fewer renders than nudges
    print(f"200 nudges -> {len(pictures)} pictures sent")


def test_a_member_removed_mid_stream_is_disconnected(world, volume):
    async def scenario():
        comm = communicator(volume, world.member)
        connected, _ = await comm.connect(timeout=10)
        assert connected
        await comm.receive_from(timeout=10)
        await in_db_thread(
            Membership.objects.filter(user=world.member, project=world.project).delete
        )
        await get_channel_layer().group_send(events.volume_group(volume.id), nudge(volume))
        return await comm.receive_output(timeout=10)

    closing = run(scenario)

    assert closing == {"type": "websocket.close", "code": FORBIDDEN}


def test_a_reconnecting_page_gets_the_current_picture_at_once(world, volume):
    async def scenario():
        comm = communicator(volume, world.owner)
        await comm.connect(timeout=10)
        await comm.receive_from(timeout=10)
        await comm.disconnect()
        # Changes while the page is away, with nobody to tell.
        await in_db_thread(
            Volume.objects.filter(id=volume.id).update, status="error", display_name="later"
        )
        again = communicator(volume, world.owner)
        await again.connect(timeout=10)
        picture = await again.receive_from(timeout=10)
        await again.disconnect()
        return picture

    picture = run(scenario)

    assert 'data-volume-status="error"' in picture and 'data-volume-name="later"' in picture


def test_logging_out_elsewhere_ends_the_stream(world, volume):
    """The session is read again before every picture: a logout closes the socket."""
    from django.contrib.sessions.models import Session

    async def scenario():
        comm = communicator(volume, world.member)
        assert (await comm.connect(timeout=10))[0]
        await comm.receive_from(timeout=10)
        await in_db_thread(Session.objects.all().delete)  # logged out in every tab
        await get_channel_layer().group_send(events.volume_group(volume.id), nudge(volume))
        return await comm.receive_output(timeout=10)

    assert run(scenario) == {"type": "websocket.close", "code": FORBIDDEN}


def test_an_admin_demoted_mid_stream_stops_seeing_other_projects(world):
    from django.contrib.auth import get_user_model

    from portal.consumers import DashboardConsumer
    from tests.conftest import make_user

    theirs = Volume.objects.create(
        project=world.outsider.projects.get(),
        user=world.outsider,
        display_name="theirs",
        size=1,
        status="available",
        volume_type=VolumeType.default(),
    )
    admin = make_user(f"admin-{world.project.name}", world.project, is_superuser=True)
    comm = logged_in(WebsocketCommunicator(DashboardConsumer.as_asgi(), "/ws/dashboard/"), admin)

    async def scenario():
        assert (await comm.connect(timeout=10))[0]
        first = await comm.receive_from(timeout=10)
        await in_db_thread(get_user_model().objects.filter(pk=admin.pk).update, is_superuser=False)
        await get_channel_layer().group_send(
            events.project_group(world.project.pk), {"type": "volume.changed"}
        )
        second = await comm.receive_from(timeout=10)
        await comm.disconnect()
        return first, second

    first, second = run(scenario)

    assert f"volume-row-{theirs.id}" in first
    assert f"volume-row-{theirs.id}" not in second
