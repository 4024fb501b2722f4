"""The admin's status page shows every server process alive, its sockets and the last
errors each one logged (docs/operations.md, "Status page")."""

from __future__ import annotations

import asyncio
import re
import time
import urllib.error
import urllib.request

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from parley.accounts.tokens import token_create
from tests.services.peers import Peer

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("realtime_cleanup"),
]

SECRET = "status-page-test-secret-" + "k" * 40


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def get(url: str, cookie: str = "") -> tuple[int, str]:
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as answer:
        return answer.code, answer.read().decode()


def staff_session(user) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "parley.accounts.backends.EmailBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"sessionid={session.session_key}"


def cells(html: str, row_class: str) -> list[list[str]]:
    rows = re.findall(rf'<tr class="{row_class}">(.*?)</tr>', html, flags=re.S)
    return [
        [c.strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)] for row in rows
    ]


async def test_the_status_page_shows_each_process_its_sockets_and_its_last_error(
    servers, make_user, settings
):
    settings.SECRET_KEY = SECRET  # the servers' key: the session hash is made with it
    # DEBUG on: the admin's pages name static files, which this suite does not collect
    a, b = servers(2, SECRET_KEY=SECRET, DEBUG="true")
    users = await database_sync_to_async(lambda: [make_user(f"st{i}") for i in range(3)])()
    boss = await database_sync_to_async(make_user)("boss", is_staff=True)
    cookie = await database_sync_to_async(staff_session)(boss)
    peers = [
        Peer(await database_sync_to_async(lambda u=u: token_create(user=u)[1])()) for u in users
    ]
    for peer, server in zip(peers, (a, a, b), strict=True):
        await peer.connect(server.ws, resume=True)
    # an error logged by process b: a request for a host this server does not serve
    # (Django logs it as a security error)
    stray = urllib.request.Request(b.http + "/api/v1/me", headers={"Host": "evil.example"})
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(stray, timeout=30)

    # when: the page is read once both have reported since
    anonymous = get(a.http + "/admin/status/")
    deadline = time.monotonic() + 20
    while True:
        await asyncio.sleep(1)
        status, html = await asyncio.to_thread(get, a.http + "/admin/status/", cookie)
        rows = cells(html, "process")
        errors = cells(html, "error")
        sockets = sorted(int(row[4]) for row in rows)
        if (sockets == [1, 2] and errors) or time.monotonic() > deadline:
            break

    # then
    assert anonymous[0] == 302  # to the login page
    assert status == 200, html
    assert len(rows) == 2 and sockets == [1, 2], rows
    assert sorted(row[5] for row in rows) == ["1", "2"]  # people online on each
    assert any("evil.example" in e[3] for e in errors), errors
    assert {e[1] for e in errors if "evil.example" in e[3]} <= {row[0] for row in rows}
    assert "3</strong> sockets open" in html
    for peer in peers:
        await peer.close()
