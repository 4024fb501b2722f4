"""Support widgets for their team (REST) and their public settings (embedding pages)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from parley.common.origins import InvalidOrigin, normalize_origin, origin_allowed
from parley.support.models import Widget

pytestmark = pytest.mark.django_db


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def create(client: APIClient, **fields):
    return client.post("/api/v1/widgets", {"name": "Shop", **fields}, format="json")


# --- origins -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("https://Shop.Example.com", "https://shop.example.com"),
        ("https://shop.example.com:443/", "https://shop.example.com"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("https://[::1]:8443", "https://[::1]:8443"),
    ],
)
def test_origins_are_stored_in_one_canonical_form(typed, stored):
    assert normalize_origin(typed, https_only=False) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "shop.example.com",
        "ftp://x.example",
        "https://x.example/path",
        "https://",
        "https://a:99999",
    ],
)
def test_what_is_not_an_origin_is_refused(typed):
    with pytest.raises(InvalidOrigin):
        normalize_origin(typed, https_only=False)


def test_an_origin_matches_by_scheme_host_and_port_exactly():
    allowed = ["https://shop.example.com"]

    def allowed_here(origin):
        return origin_allowed(origin, allowed, https_only=False)

    assert allowed_here("https://shop.example.com")
    assert allowed_here("https://shop.example.com:443")
    assert not allowed_here("http://shop.example.com")
    assert not allowed_here("https://shop.example.com:8443")
    assert not allowed_here("https://evil.shop.example.com")
    assert not allowed_here("null")
    assert not allowed_here(None)


# --- the owner ---------------------------------------------------------------------------


def test_an_owner_creates_a_widget_and_sees_its_key_and_secret(alice, settings):
    settings.DEBUG = True  # http://localhost is for development
    response = create(
        api(alice),
        allowed_origins=["https://Shop.Example.com/", "http://localhost:8080"],
        accent_color="#FF8800",
        position="left",
        ask_email="required",
    )

    body = response.json()
    assert response.status_code == 201
    assert body["allowed_origins"] == ["https://shop.example.com", "http://localhost:8080"]
    assert body["accent_color"] == "#ff8800"
    assert body["public_key"].startswith("pw_") and len(body["secret"]) >= 40
    assert body["owner"]["username"] == "alice" and body["agents"] == []


def test_bad_values_are_refused_field_by_field_and_nothing_is_saved(alice):
    response = create(
        api(alice),
        name="",
        allowed_origins=["www.example.com"],
        accent_color="red",
        position="middle",
        ask_name="maybe",
        greeting="x" * 281,
    )

    body = response.json()
    assert response.status_code == 400 and body["code"] == "invalid"
    details = body["details"]
    assert set(details) >= {"name", "allowed_origins", "accent_color", "position", "ask_name"}
    assert not Widget.objects.exists()


def test_with_debug_off_only_https_sites_may_embed(alice, settings):
    settings.DEBUG = False

    response = create(api(alice), allowed_origins=["http://shop.example.com"])

    assert response.status_code == 400
    assert "https" in response.json()["details"]["allowed_origins"][0]


def test_an_owner_changes_rotates_and_deletes(alice):
    client = api(alice)
    widget = create(client).json()

    changed = client.patch(
        f"/api/v1/widgets/{widget['id']}", {"title": "Ask us", "greeting": "Hi!"}, format="json"
    )
    rotated = client.post(f"/api/v1/widgets/{widget['id']}/secret")
    deleted = client.delete(f"/api/v1/widgets/{widget['id']}")

    assert changed.json()["title"] == "Ask us" and changed.json()["name"] == "Shop"
    assert rotated.json()["secret"] != widget["secret"]
    assert deleted.status_code == 204
    assert client.get(f"/api/v1/widgets/{widget['id']}").status_code == 404
    assert api().get(f"/widget/{widget['public_key']}/config").status_code == 404


def test_an_owner_has_at_most_twenty_widgets(alice):
    client = api(alice)
    codes = [create(client, name=f"w{i}").status_code for i in range(21)]

    assert codes == [201] * 20 + [400]
    assert create(client).json()["code"] == "limit_reached"


# --- the team ----------------------------------------------------------------------------


def test_an_agent_sees_the_widget_without_its_secret_and_cannot_change_it(alice, bob):
    owner = api(alice)
    widget = create(owner).json()
    added = owner.post(f"/api/v1/widgets/{widget['id']}/agents", {"user": "bob@example.com"})
    again = owner.post(f"/api/v1/widgets/{widget['id']}/agents", {"user": "bob"})
    agent = api(bob)

    seen = agent.get(f"/api/v1/widgets/{widget['id']}").json()
    listed = agent.get("/api/v1/widgets").json()
    patch = agent.patch(f"/api/v1/widgets/{widget['id']}", {"title": "mine"}, format="json")
    rotate = agent.post(f"/api/v1/widgets/{widget['id']}/secret")
    delete = agent.delete(f"/api/v1/widgets/{widget['id']}")

    assert (added.status_code, again.status_code) == (201, 200)
    assert [a["username"] for a in added.json()["agents"]] == ["bob"]
    assert seen["secret"] is None and seen["public_key"] == widget["public_key"]
    assert [w["id"] for w in listed] == [widget["id"]]
    assert {r.status_code for r in (patch, rotate, delete)} == {403}
    assert Widget.objects.get().title == "Chat with us"


def test_an_agent_cannot_look_people_up_through_the_team_form(alice, bob):
    owner = api(alice)
    widget = create(owner).json()
    owner.post(f"/api/v1/widgets/{widget['id']}/agents", {"user": "bob"})

    known = api(bob).post(f"/api/v1/widgets/{widget['id']}/agents", {"user": "alice"})
    unknown = api(bob).post(f"/api/v1/widgets/{widget['id']}/agents", {"user": "nobody@x.org"})

    assert (known.status_code, unknown.status_code) == (403, 403)


def test_a_removed_agent_no_longer_sees_the_widget(alice, bob):
    owner = api(alice)
    widget = create(owner).json()
    owner.post(f"/api/v1/widgets/{widget['id']}/agents", {"user": "bob"})

    removed = owner.delete(f"/api/v1/widgets/{widget['id']}/agents/{bob.pk}")

    assert removed.status_code == 204
    assert api(bob).get(f"/api/v1/widgets/{widget['id']}").status_code == 404
    assert api(bob).get("/api/v1/widgets").json() == []


def test_strangers_learn_nothing_about_100_widget_ids(alice, carol):
    owner = api(alice)
    ids = [create(owner, name=f"w{i}").json()["id"] for i in range(3)]
    probe = api(carol)
    secret = Widget.objects.first().secret
    answers = []
    for wid in [*ids, *range(max(ids) + 1, max(ids) + 98)]:
        answers += [
            probe.get(f"/api/v1/widgets/{wid}"),
            probe.patch(f"/api/v1/widgets/{wid}", {"title": "x"}, format="json"),
            probe.delete(f"/api/v1/widgets/{wid}"),
            probe.post(f"/api/v1/widgets/{wid}/secret"),
            probe.post(f"/api/v1/widgets/{wid}/agents", {"user": "carol"}),
            probe.delete(f"/api/v1/widgets/{wid}/agents/{carol.pk}"),
        ]

    assert {r.status_code for r in answers} == {404}
    assert {r.json()["code"] for r in answers} == {"widget_not_found"}
    assert not any(secret.encode() in r.content or b"Shop" in r.content for r in answers)
    assert probe.get("/api/v1/widgets").json() == []
    assert Widget.objects.count() == 3 and not Widget.objects.filter(title="x").exists()


def test_nobody_signed_out_reaches_the_widget_api(alice):
    widget = create(api(alice)).json()

    assert api().get("/api/v1/widgets").status_code == 401
    assert api().get(f"/api/v1/widgets/{widget['id']}").status_code == 401


# --- what embedding pages read -------------------------------------------------------------


def test_the_public_settings_name_nothing_private(alice, bob):
    owner = api(alice)
    widget = create(
        owner, allowed_origins=["https://shop.example.com"], greeting="Hello there"
    ).json()
    owner.post(f"/api/v1/widgets/{widget['id']}/agents", {"user": "bob"})

    response = api().get(f"/widget/{widget['public_key']}/config")

    body = response.json()
    assert response.status_code == 200
    assert body["greeting"] == "Hello there" and body["key"] == widget["public_key"]
    text = response.content.decode()
    for private in (widget["secret"], "shop.example.com", "alice", "bob", "Shop"):
        assert private not in text


def test_only_allowed_sites_may_read_the_public_settings_from_a_script(alice):
    widget = create(api(alice), allowed_origins=["https://shop.example.com"]).json()
    url = f"/widget/{widget['public_key']}/config"

    allowed = api().get(url, HTTP_ORIGIN="https://shop.example.com")
    other_port = api().get(url, HTTP_ORIGIN="https://shop.example.com:8443")
    foreign = api().get(url, HTTP_ORIGIN="https://evil.example")
    null = api().get(url, HTTP_ORIGIN="null")

    assert allowed["Access-Control-Allow-Origin"] == "https://shop.example.com"
    for refused in (other_port, foreign, null):
        assert "Access-Control-Allow-Origin" not in refused
    assert api().get("/widget/pw_nope/config").json()["code"] == "widget_not_found"


def test_adding_agents_counts_against_the_lookup_limit(alice, settings):
    settings.PARLEY = {**settings.PARLEY, "RATE_LIMITS": {"lookups": "3/h"}}
    owner = api(alice)
    widget = create(owner).json()

    codes = [
        owner.post(f"/api/v1/widgets/{widget['id']}/agents", {"user": f"x{i}@example.com"})
        for i in range(4)
    ]

    assert [r.status_code for r in codes] == [404, 404, 404, 429]
    assert codes[3].json()["code"] == "rate_limited"
