"""Signing out (or changing the password) closes the user's websockets within 2 seconds."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from asgiref.sync import sync_to_async
from django.test import Client as HttpClient

from parley.chat import services as chat
from parley.realtime.consumers import CLOSE_SESSION_ENDED
from tests.ws import Client

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "pw-correct-horse"


def _login(email: str) -> tuple[HttpClient, str]:
    http = HttpClient()
    response = http.post("/accounts/login/", {"login": email, "password": PASSWORD})
    assert response.status_code == 302, response
    return http, http.session.session_key


login = sync_to_async(_login)


async def socket(user, session_key: str | None) -> Client:
    ws = Client(user)
    if session_key is not None:
        ws.comm.scope["session"] = SimpleNamespace(session_key=session_key)
    return await ws.connect(resume={})


async def closed_with(ws: Client, timeout: float = 2.0) -> int | None:
    """The close code the server sent within `timeout` (skipping other frames), or None."""
    while True:
        try:
            output = await ws.comm.receive_output(timeout)
        except TimeoutError:
            return None
        if output["type"] == "websocket.close":
            return output.get("code")


async def still_open(ws: Client) -> bool:
    rid = await ws.send({"type": "ping"})
    return (await ws.expect("pong", re=rid))["re"] == rid


async def test_logout_closes_the_sockets_of_that_session_only(alice, bob):
    # given: alice signed in twice (two browsers), bob once
    http, first = await login(alice.email)
    _, second = await login(alice.email)
    _, bobs = await login(bob.email)
    a1 = await socket(alice, first)
    a2 = await socket(alice, second)
    b = await socket(bob, bobs)

    # when
    response = await sync_to_async(http.post)("/accounts/logout/")

    # then
    assert response.status_code == 302
    assert await closed_with(a1) == CLOSE_SESSION_ENDED
    assert await still_open(a2)
    assert await still_open(b)
    await a2.close()
    await b.close()


async def test_json_logout_closes_that_sessions_sockets(alice):
    http, key = await login(alice.email)
    ws = await socket(alice, key)

    response = await sync_to_async(http.delete)("/_allauth/browser/v1/auth/session")

    assert response.status_code == 401  # signed out
    assert await closed_with(ws) == CLOSE_SESSION_ENDED


async def test_a_password_change_closes_every_socket_of_the_user(alice, bob):
    http, key = await login(alice.email)
    _, other = await login(alice.email)
    here = await socket(alice, key)
    elsewhere = await socket(alice, other)
    script = await socket(alice, None)  # a bearer-token socket has no session
    b = await socket(bob, None)

    response = await sync_to_async(http.post)(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": "a-new-secret-77", "password2": "a-new-secret-77"},
    )

    assert response.status_code == 302
    assert await closed_with(here) == CLOSE_SESSION_ENDED
    assert await closed_with(elsewhere) == CLOSE_SESSION_ENDED
    assert await closed_with(script) == CLOSE_SESSION_ENDED
    assert await still_open(b)
    await b.close()


async def test_a_profile_change_reaches_the_people_i_chat_with(alice, bob, carol):
    await sync_to_async(chat.conversation_get_or_create_direct)(user=alice, other=bob.username)
    http, key = await login(alice.email)
    b = await socket(bob, None)
    c = await socket(carol, None)
    other_tab = await socket(alice, key)

    response = await sync_to_async(http.patch)(
        "/api/v1/me",
        {"display_name": "Ada L.", "show_last_seen": False},
        content_type="application/json",
    )

    assert response.status_code == 200
    seen_by_bob = await b.expect("profile.updated")
    seen_by_me = await other_tab.expect("profile.updated")
    avatar = seen_by_bob["user"].pop("avatar")
    assert seen_by_bob["user"] == {
        "kind": "user",
        "id": str(alice.pk),
        "name": "Ada L.",
        "username": "alice",
    }
    assert avatar.startswith("/accounts/avatar.svg?i=AL&")  # the generated one, new initials
    assert seen_by_bob["show_last_seen"] is False
    assert seen_by_me["user"]["name"] == "Ada L."
    assert await c.nothing()
    for ws in (b, c, other_tab):
        await ws.close()
