"""Sockets that never finish the handshake (slowloris), through nginx as documented.

uvicorn has no timeout for a request's headers: a client that sends them a byte every
few seconds holds a connection for as long as it likes. docs/deployment.md puts nginx in
front with `client_header_timeout`; this runs that very configuration
(tests/services/attacks/nginx_proxy.py) before a real server process and opens 200
connections (1,000 with PARLEY_ATTACKS_FULL=1) that send an unfinished request line and
then one header byte every 2 s. Each must be cut off within the documented timeout (plus
slack for a loaded machine), while a normal client keeps getting answers through the
same nginx.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
import urllib.request

import pytest

from tests.services.attacks import CI, report, size
from tests.services.attacks.nginx_proxy import NGINX, NginxProxy, documented_block

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

SLACK = 10.0  # seconds past the timeout a loaded machine may take to cut one off


async def slow_client(port: int, timeout: float) -> float:
    """Trickle a request's headers; the seconds until the server hung up."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    began = time.monotonic()
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    await writer.drain()
    try:
        while time.monotonic() - began < timeout + SLACK + 5:
            try:
                if await asyncio.wait_for(reader.read(1024), 2) == b"":
                    break
            except TimeoutError:
                writer.write(b"a")
                await writer.drain()
            except ConnectionError:
                break
    except ConnectionError:
        pass
    finally:
        writer.close()
    return time.monotonic() - began


def healthz(url: str) -> tuple[int, float]:
    began = time.monotonic()
    with urllib.request.urlopen(f"{url}/healthz", timeout=10) as response:
        return response.status, time.monotonic() - began


async def test_slow_headers_are_cut_off_by_nginx_and_others_still_get_in(servers):
    if not os.path.exists(NGINX):
        reason = f"no nginx at {NGINX} (apt-get install nginx, or set PARLEY_NGINX)"
        if CI:
            pytest.fail(reason)
        pytest.skip(reason)
    timeout = float(re.search(r"client_header_timeout (\d+)s", documented_block()).group(1))
    (server,) = servers(1, BEHIND_PROXY="true", SECURE_SSL_REDIRECT="false")
    nginx = NginxProxy([server.port]).start()
    connections = size(200, 1_000)
    try:
        slow = [asyncio.ensure_future(slow_client(nginx.port, timeout)) for _ in range(connections)]
        answers: list[tuple[int, float]] = []
        while not all(task.done() for task in slow):
            answers.append(await asyncio.to_thread(healthz, nginx.url))
            await asyncio.sleep(0.5)
        held = sorted(task.result() for task in slow)
    finally:
        nginx.stop()

    assert held[-1] <= timeout + SLACK, held[-10:]
    assert answers and {status for status, _ in answers} == {200}, answers
    assert server.problems() == [], server.log()[-3000:]
    report(
        "slowloris through nginx",
        connections=connections,
        client_header_timeout=f"{timeout:g} s",
        cut_off_after=f"{held[0]:.1f} to {held[-1]:.1f} s",
        normal_requests_meanwhile=f"{len(answers)}, all 200",
        slowest_normal_request_ms=round(max(t for _, t in answers) * 1000),
    )
