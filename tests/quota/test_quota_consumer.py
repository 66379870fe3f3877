"""``/ws/quota/<project>/``: the bars fragment on connect, and again after each change."""

import pytest
from asgiref.sync import async_to_sync
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from core.cinder import quota
from portal.routing import websocket_urlpatterns
from tests.live.support import in_db_thread, logged_in
from tests.quota.helpers import limit

pytestmark = pytest.mark.integration


def communicator(user, project_id) -> WebsocketCommunicator:
    # The routes behind asgi.py's origin and session middleware, with the user
    # those would have resolved.
    comm = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/quota/{project_id}/")
    logged_in(comm, user)
    return comm


def reserved_of(html: str, resource: str) -> str:
    bar = html[html.index(f'data-resource="{resource}"') :]
    return bar[bar.index('data-reserved="') + 15 :].split('"', 1)[0]


def test_a_member_gets_the_bars_then_a_fresh_picture_after_a_reservation(world):
    limit(world.project, "gigabytes", 10)

    async def watch():
        comm = communicator(world.member, world.project.pk)
        connected, _ = await comm.connect()
        assert connected
        first = await comm.receive_from(timeout=20)
        await _reserve(world.project.pk)
        second = await comm.receive_from(timeout=20)
        await comm.disconnect()
        return first, second

    first, second = async_to_sync(watch)()

    assert 'id="quota-bars" hx-swap-oob="true"' in first
    assert reserved_of(first, "gigabytes") == "0"
    assert reserved_of(second, "gigabytes") == "4"


async def _reserve(project_id):
    from channels.db import database_sync_to_async

    await database_sync_to_async(quota.reserve)(project_id, {"volumes": 1, "gigabytes": 4})


def test_an_outsider_is_turned_away(world):
    async def attempt():
        comm = communicator(world.outsider, world.project.pk)
        connected, code = await comm.connect()
        await comm.disconnect()
        return connected, code

    assert async_to_sync(attempt)() == (False, 4403)


def test_a_member_removed_mid_stream_gets_no_more_bars(world):
    from core.cinder.models import Membership

    comm = communicator(world.member, world.project.pk)

    async def watch():
        connected, _ = await comm.connect()
        assert connected
        await comm.receive_from(timeout=20)
        await in_db_thread(
            Membership.objects.filter(user=world.member, project=world.project).delete
        )
        await _reserve(world.project.pk)
        return await comm.receive_output(timeout=20)

    assert async_to_sync(watch)() == {"type": "websocket.close", "code": 4403}
