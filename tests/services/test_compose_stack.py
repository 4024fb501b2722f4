"""compose.yaml's stack without Docker: two servers started through the image's
entrypoint with compose's environment (DEBUG off, behind a proxy), the shipped nginx
configuration in front over https, and two people chatting on cookie sockets from a
browser's origin. Where a Docker daemon runs, tests/test_docker.py builds the image
itself; this is what can be checked everywhere else.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from django.test import Client
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from parley.chat import services
from parley.web.liveserver import free_port
from tests.services.conftest import test_database_url

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
NGINX, OPENSSL = shutil.which("nginx"), shutil.which("openssl")


def compose_environment() -> dict[str, str]:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    environment = compose["services"]["parley-1"]["environment"]
    return {name: str(value) for name, value in environment.items()}


def wait_healthy(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited:\n{log.read_text()}")
        # as compose's health check asks: the scheme nginx's requests carry
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/healthz", headers={"X-Forwarded-Proto": "https"}
        )
        with contextlib.suppress(urllib.error.URLError, OSError):
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return
        time.sleep(0.2)
    raise RuntimeError(f"the server did not get healthy:\n{log.read_text()}")


@pytest.fixture
def stack(tmp_path, redis_prefix, settings) -> Iterator[int]:
    """The https port of nginx in front of two servers; the test's session cookies are
    signed with the servers' SECRET_KEY."""
    if not (NGINX and OPENSSL):
        pytest.skip("nginx or openssl is not installed here")
    secret = "compose-stack-" + uuid.uuid4().hex + uuid.uuid4().hex
    settings.SECRET_KEY = secret
    env = {
        **os.environ,
        **compose_environment(),
        "SECRET_KEY": secret,
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CHANNEL_PREFIX": redis_prefix,
        "PARLEY_PRESENCE_PREFIX": f"{redis_prefix}:pr",
        "CACHE_PREFIX": f"{redis_prefix}:c",
        "FORWARDED_ALLOW_IPS": "127.0.0.1",  # nginx, here on loopback
        "MEDIA_ROOT": str(tmp_path / "media"),
        # the image's PATH: uvicorn and python of the environment Parley is installed in
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    env.pop("PYTEST_CURRENT_TEST", None)
    servers = []
    for name in ("parley-1", "parley-2"):
        port, log = free_port(), tmp_path / f"{name}.log"
        process = subprocess.Popen(
            ["sh", str(ROOT / "deploy" / "docker-entrypoint.sh"), "serve"]
            + ["--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        servers.append((name, port, process, log))
    for _, port, process, log in servers:
        wait_healthy(port, process, log)

    subprocess.run(
        [OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=localhost", "-keyout", str(tmp_path / "privkey.pem")]
        + ["-out", str(tmp_path / "fullchain.pem")],
        check=True,
        capture_output=True,
        timeout=60,
    )
    https_port = free_port()
    conf = (ROOT / "deploy" / "nginx" / "parley.conf").read_text()
    for name, port, _, _ in servers:
        conf = conf.replace(f"{name}:8000", f"127.0.0.1:{port}")
    conf = conf.replace("listen 443 ", f"listen 127.0.0.1:{https_port} ")
    conf = conf.replace("/etc/nginx/certs", str(tmp_path))
    conf = conf.replace("access_log /dev/stdout", f"access_log {tmp_path}/access.log")
    (tmp_path / "parley.conf").write_text(conf)
    (tmp_path / "nginx.conf").write_text(
        f"daemon off;\nerror_log {tmp_path}/error.log;\npid {tmp_path}/nginx.pid;\n"
        f"events {{}}\nhttp {{\n  client_body_temp_path {tmp_path}/body;\n"
        f"  proxy_temp_path {tmp_path}/proxy;\n  include {tmp_path}/parley.conf;\n}}\n"
    )
    nginx = subprocess.Popen(
        [NGINX, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and nginx.poll() is None:
            with contextlib.suppress(OSError):
                with socket_to(https_port):
                    break
            time.sleep(0.1)
        assert nginx.poll() is None, (tmp_path / "error.log").read_text()
        yield https_port
    finally:
        nginx.terminate()
        nginx.wait(10)
        for _, _, process, _ in servers:
            process.terminate()
        for _, _, process, _ in servers:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def socket_to(port: int):
    import socket

    return socket.create_connection(("127.0.0.1", port), timeout=1)


def unverified() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the certificate is self-signed, as compose's is
    return context


def browser_socket(port: int, session: str, origin: str) -> ClientConnection:
    return connect(
        f"wss://localhost:{port}/ws/",
        ssl=unverified(),
        origin=origin,
        additional_headers={"Cookie": f"sessionid={session}"},
        open_timeout=20,
        proxy=None,
    )


def frames_until(ws: ClientConnection, kind: str) -> dict:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        frame = json.loads(ws.recv(timeout=deadline - time.monotonic()))
        if frame["type"] == kind:
            return frame
    raise AssertionError(f"no {kind}")


def test_two_people_chat_through_nginx_on_two_servers(stack, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    conversation = services.conversation_get_or_create_direct(user=alice, other="bob")[0]
    sessions = {}
    for user in (alice, bob):
        client = Client()
        client.force_login(user)
        sessions[user.username] = client.cookies["sessionid"].value
    origin = f"https://localhost:{stack}"  # the page's origin in the browser

    with (
        browser_socket(stack, sessions["alice"], origin) as at_alice,
        browser_socket(stack, sessions["bob"], origin) as at_bob,
    ):
        assert frames_until(at_alice, "hello")["user"]["username"] == "alice"
        assert frames_until(at_bob, "hello")["user"]["username"] == "bob"
        for ws in (at_alice, at_bob):
            ws.send(json.dumps({"type": "resume", "id": "r1", "conversations": {}}))
            frames_until(ws, "resumed")
        at_alice.send(
            json.dumps(
                {
                    "type": "message.send",
                    "id": "s1",
                    "conversation": conversation.pk,
                    "client_id": "a1",
                    "body": "hello through nginx",
                }
            )
        )

        assert frames_until(at_bob, "message.created")["message"]["body"] == "hello through nginx"


def test_a_page_served_over_plain_http_cannot_open_a_socket(stack, make_user):
    client = Client()
    client.force_login(make_user("carol"))

    with pytest.raises(InvalidStatus) as refused:
        browser_socket(stack, client.cookies["sessionid"].value, f"http://localhost:{stack}")

    assert refused.value.response.status_code == 403
