"""The ASGI entry point routes as Channels' routers did: /ws/ to the gateway, HTTP to
Django, any other websocket path or scope type refused."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.testing import ApplicationCommunicator, HttpCommunicator, WebsocketCommunicator

from parley.accounts.tokens import token_create
from parley.asgi import application
from parley.realtime.routing import websocket_urlpatterns

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def token_of(user):
    return token_create(user=user)[1]


@pytest.mark.parametrize(("path", "root_path"), [("/ws/", ""), ("/chat/ws/", "/chat")])
async def test_a_token_socket_at_ws_gets_its_hello(alice, path, root_path):
    key = await token_of(alice)
    comm = WebsocketCommunicator(
        application, path, headers=[(b"authorization", f"Bearer {key}".encode())]
    )
    comm.scope["root_path"] = root_path

    connected, _ = await comm.connect()

    assert connected
    hello = await comm.receive_json_from()
    assert hello["type"] == "hello" and hello["user"]["id"] == str(alice.pk)
    await comm.disconnect()


async def test_a_socket_without_credentials_at_ws_is_refused(alice):
    comm = WebsocketCommunicator(application, "/ws/")

    connected, _ = await comm.connect()

    assert not connected  # GatewayAuth: no token, no Origin of ours


@pytest.mark.parametrize(
    ("path", "root_path"), [("/nope/", ""), ("/ws/x/", ""), ("/ws", ""), ("/ws/", "/chat")]
)
async def test_any_other_websocket_path_is_refused_as_urlrouter_refused_it(path, root_path):
    async def refusal(app):
        comm = WebsocketCommunicator(app, path)
        comm.scope["root_path"] = root_path
        with pytest.raises(ValueError) as caught:  # uvicorn answers the handshake with 500
            await comm.connect()
        return str(caught.value)

    assert await refusal(application) == await refusal(URLRouter(websocket_urlpatterns))


async def test_other_scope_types_are_refused_as_protocoltyperouter_refused_them():
    async def refusal(app):
        comm = ApplicationCommunicator(app, {"type": "telepathy"})
        with pytest.raises(ValueError) as caught:
            await comm.receive_output()
        return str(caught.value)

    assert await refusal(application) == await refusal(ProtocolTypeRouter({}))


async def test_lifespan_starts_and_shuts_down():
    # uvicorn's lifespan: shutdown releases the writer leases (none without Redis)
    comm = ApplicationCommunicator(application, {"type": "lifespan"})
    await comm.send_input({"type": "lifespan.startup"})
    assert await comm.receive_output() == {"type": "lifespan.startup.complete"}
    await comm.send_input({"type": "lifespan.shutdown"})
    assert await comm.receive_output() == {"type": "lifespan.shutdown.complete"}
    await comm.wait()


async def test_http_goes_to_django(alice):
    http = HttpCommunicator(application, "GET", "/api/v1/me", headers=[(b"host", b"localhost")])

    response = await http.get_response()

    assert response["status"] in (401, 403)  # DRF's answer: Django handled it


def test_a_server_process_leaves_its_startup_heap_out_of_garbage_collections():
    # A fresh interpreter, as uvicorn starts one: what importing the application loaded
    # (Django, every view) is not walked by a later full collection.
    import subprocess
    import sys

    probe = (
        "import gc, os\n"
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'parley.settings'\n"
        "import parley.asgi\n"
        "print(gc.get_freeze_count(), len(gc.get_objects()), gc.get_threshold()[0])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    frozen, walked, young = map(int, out.split())
    assert frozen > 50_000  # Django, DRF, allauth, pydantic and the views
    assert walked < frozen / 10
    assert young > 700  # collections less often than Python's default
