"""The live stream, as daphne really serves it: who may listen, and what is refused."""

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from core.cinder.models import Volume
from tests.live.support import session_cookie, ws_url
from tests.waiting import wait_until
from volumes import api

pytestmark = pytest.mark.integration

ONE_MIB = 1024 * 1024


@pytest.fixture
def volume(world, cloud) -> Volume:
    volume = api.create(api.request_context(world.owner, world.project), size=1, name="watched")
    return wait_until(
        lambda: Volume.objects.filter(id=volume.id, status="available").first(),
        timeout=60,
        what="the volume to become available",
    )


def open_stream(server, path, *, user=None, origin=None):
    headers = {"Origin": origin or server}
    if user is not None:
        headers["Cookie"] = session_cookie(user)
    # No compression: the size limit is about what the client really sends.
    return connect(
        ws_url(server, path),
        additional_headers=headers,
        compression=None,
        open_timeout=30,
        max_size=None,
    )


def test_a_member_receives_the_current_picture_on_connect(server, world, volume):
    with open_stream(server, f"/ws/volumes/{volume.id}/", user=world.member) as ws:
        picture = ws.recv(timeout=30)

    assert 'id="volume-facts"' in picture and 'data-volume-status="available"' in picture
    assert picture.count("data-task=") == 13


def test_a_user_of_another_project_gets_a_closed_socket(server, world, volume):
    with pytest.raises(InvalidStatus) as refused:
        open_stream(server, f"/ws/volumes/{volume.id}/", user=world.outsider)

    assert refused.value.response.status_code == 403


def test_an_anonymous_visitor_gets_a_closed_socket(server, volume):
    with pytest.raises(InvalidStatus) as refused:
        open_stream(server, f"/ws/volumes/{volume.id}/")

    assert refused.value.response.status_code == 403


def test_a_websocket_from_a_foreign_origin_is_refused(server, world, volume):
    with pytest.raises(InvalidStatus) as refused:
        open_stream(
            server, f"/ws/volumes/{volume.id}/", user=world.owner, origin="http://evil.example"
        )

    assert refused.value.response.status_code == 403


def test_a_message_over_one_mebibyte_is_refused(server, world, volume):
    with open_stream(server, f"/ws/volumes/{volume.id}/", user=world.owner) as ws:
        ws.recv(timeout=30)
        ws.send("x" * ONE_MIB)  # exactly the limit is fine: the socket stays open
        assert ws.ping().wait(timeout=10)

        # The server may drop the connection before the client has finished sending.
        with pytest.raises(ConnectionClosed):
            ws.send("x" * (ONE_MIB + 1))
            while True:
                ws.recv(timeout=30)

    # daphne (autobahn, failByDrop) drops the TCP connection rather than
    # sending 1009 "message too big": the client sees an abnormal closure.
    assert ws.close_code in (1006, 1009)


def test_the_dashboard_stream_refuses_anonymous_visitors(server):
    with pytest.raises(InvalidStatus) as refused:
        open_stream(server, "/ws/dashboard/")

    assert refused.value.response.status_code == 403


@pytest.mark.parametrize("other", ["another port", "another scheme"])
def test_a_websocket_from_the_same_host_on_another_port_or_scheme_is_refused(
    server, world, volume, other
):
    """The Origin must be this site exactly: scheme, host and port, as Django's CSRF check."""
    host, port = server.removeprefix("http://").split(":")
    origin = (
        f"http://{host}:{int(port) + 1}" if other == "another port" else f"https://{host}:{port}"
    )
    with pytest.raises(InvalidStatus) as refused:
        open_stream(server, f"/ws/volumes/{volume.id}/", user=world.owner, origin=origin)

    assert refused.value.response.status_code == 403
