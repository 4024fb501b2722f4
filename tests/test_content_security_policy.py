"""The Content-Security-Policy header on every kind of page, templates that need nothing
inline, and API docs that load nothing from another host.

tests/e2e/test_content_security_policy.py shows the pages working under it in a browser.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from parley.chat import services

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[1]
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self' ws://testserver wss://testserver",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "object-src": "'none'",
}


def _policy(response) -> dict[str, str]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    directives = (d.strip().split(" ", 1) for d in header.split(";") if d.strip())
    return {name: value for name, value in directives}


@pytest.fixture
def staff_client(make_user) -> Client:
    client = Client()
    client.force_login(make_user("boss", is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password/reset/",
        "/api/docs/",
        "/_allauth/openapi.html",
        "/api/v1/conversations",  # a 401 JSON answer gets it too
    ],
)
def test_anonymous_pages_carry_the_policy(client, path):
    response = client.get(path)

    assert response.status_code < 500
    assert _policy(response) == POLICY


@pytest.mark.parametrize("path", ["/livez", "/readyz", "/healthz"])
def test_health_probes_carry_a_policy_that_allows_nothing(path):
    """Probes are answered before the site's middleware, for any Host (parley/common/
    probes.py): a JSON answer needs no source at all."""
    response = Client(HTTP_HOST="10.0.0.5:8001").get(path)

    assert response.status_code == 200
    assert _policy(response) == {"default-src": "'none'", "frame-ancestors": "'none'"}
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/accounts/profile/",
        "/accounts/email/",
        "/accounts/password/change/",
        "/api/docs/",
        "/api/docs/?script=",
        "/api/v1/conversations",
        "/admin/",
        "/admin/chat/conversation/",
        "/admin/accounts/user/",
    ],
)
def test_signed_in_pages_carry_the_policy(staff_client, path):
    response = staff_client.get(path)

    assert response.status_code == 200
    assert _policy(response) == POLICY


def test_the_join_and_admin_change_pages_carry_the_policy(staff_client, alice):
    team = services.conversation_create_group(creator=alice, title="Team")

    pages = [
        staff_client.get(f"/join/{team.invite_secret}"),
        staff_client.get(f"/admin/chat/conversation/{team.pk}/change/"),
    ]

    assert [r.status_code for r in pages] == [200, 200]
    assert all(_policy(r) == POLICY for r in pages)


def test_the_websocket_origins_follow_the_host_asked_for(client, settings):
    settings.ALLOWED_HOSTS = ["chat.example"]

    response = client.get("/accounts/login/", HTTP_HOST="chat.example")

    assert _policy(response)["connect-src"] == "'self' ws://chat.example wss://chat.example"


@pytest.mark.parametrize("path", ["/api/docs/", "/_allauth/openapi.html"])
def test_the_api_docs_load_everything_from_this_server(client, path):
    html = client.get(path).content.decode()

    sources = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert sources, html
    assert [s for s in sources if not s.startswith("/")] == []
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None  # no inline script
    assert "<style" not in html
    assert "swagger-ui-bundle.js" in html


def test_the_api_docs_start_up_script_is_served_from_here(client):
    response = client.get("/api/docs/?script=")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in response.content.decode()
    assert '"/api/schema/"' in response.content.decode()


# Inline code a strict policy refuses: a <script> that is not a file or a JSON data island,
# a <style> element, a style="" attribute, an on...="" handler, a javascript: URL.
INLINE = re.compile(
    r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>"
    r"|<style\b|\sstyle=|\son[a-z]+=|javascript:",
    re.I,
)


def test_no_template_of_parley_needs_inline_code():
    offenders = {
        str(path.relative_to(ROOT)): INLINE.findall(path.read_text())
        for path in (ROOT / "parley").glob("*/templates/**/*.html")
    }

    assert {path: found for path, found in offenders.items() if found} == {}


# --- the support widget's frame: framed by the site that embeds it, nobody else ---------


@pytest.fixture
def shop_widget(alice):
    from parley.support.services import widget_create

    return widget_create(
        owner=alice,
        name="Shop",
        allowed_origins=["https://shop.example.com:8443", "https://other.example.com"],
    )


def test_the_widget_frame_may_be_framed_by_the_embedding_origin_only(client, shop_widget):
    response = client.get(
        f"/widget/{shop_widget.public_key}/frame", {"origin": "https://shop.example.com:8443"}
    )

    assert response.status_code == 200
    policy = _policy(response)
    # only the origin that asked, not the widget's other sites, and nothing else relaxed
    assert policy == {**POLICY, "frame-ancestors": "https://shop.example.com:8443"}
    assert "X-Frame-Options" not in response.headers
    assert b'data-host-origin="https://shop.example.com:8443"' in response.content


@pytest.mark.parametrize(
    "origin",
    [
        "",
        "null",
        "https://evil.example.com",
        "http://shop.example.com:8443",  # plain http, with DEBUG off
        "https://shop.example.com",  # another port
        "https://shop.example.com:8443/path",
        "https://shop.example.com:8443 https://evil.example.com",
    ],
)
def test_the_widget_frame_is_not_framed_for_any_other_origin(client, shop_widget, origin):
    response = client.get(f"/widget/{shop_widget.public_key}/frame", {"origin": origin})

    assert response.status_code == 403
    assert _policy(response)["frame-ancestors"] == "'none'"
    assert b"composer" not in response.content


def test_an_unknown_widget_has_no_frame(client):
    response = client.get("/widget/pw_nope/frame", {"origin": "https://shop.example.com"})

    assert response.status_code == 404
    assert _policy(response)["frame-ancestors"] == "'none'"


def test_the_embed_script_is_cacheable_and_loadable_by_any_site(client):
    response = client.get("/widget.js")
    again = client.get("/widget.js", HTTP_IF_NONE_MATCH=response["ETag"])

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "max-age=3600" in response["Cache-Control"]
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert b"window.Parley" in response.content
    assert again.status_code == 304
