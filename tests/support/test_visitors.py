"""What a widget's frame does for its visitor over HTTP: visits, tokens, identity, sending
and reading their own conversation, and every refusal (docs/widget.md, "Visitors")."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from django.test import Client

from parley.chat import services as chat
from parley.chat.models import ConversationEvent, Membership
from parley.events.sink import capture
from parley.support import services
from parley.support.models import SupportConversation, Widget

pytestmark = pytest.mark.django_db

OWN = "https://testserver"  # the frame's origin: this server's own (https: DEBUG is off)


@pytest.fixture
def widget(alice) -> Widget:
    return services.widget_create(
        owner=alice, name="Shop", allowed_origins=["https://shop.example.com"]
    )


def frame(**extra) -> Client:
    return Client(HTTP_ORIGIN=OWN, **extra)


def session(widget, client=None, **body):
    response = (client or frame()).post(
        f"/widget/{widget.public_key}/session", body, content_type="application/json", secure=True
    )
    return response


def send(widget, token, body="Hello?", client_id="c1", client=None, headers=None, **fields):
    return (client or frame()).post(
        f"/widget/{widget.public_key}/messages",
        {"client_id": client_id, "body": body, **fields},
        content_type="application/json",
        secure=True,
        HTTP_AUTHORIZATION=f"Visitor {token}",
        **(headers or {}),
    )


def history(widget, token, client=None):
    return (client or frame()).get(
        f"/widget/{widget.public_key}/messages",
        secure=True,
        HTTP_AUTHORIZATION=f"Visitor {token}",
    )


def signature(widget, user_id):
    return hmac.new(widget.secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


# --- visits and tokens ------------------------------------------------------------------


def test_a_first_visit_gets_a_token_and_the_public_settings_and_costs_no_row(widget):
    response = session(widget)

    body = response.json()
    assert response.status_code == 200
    assert body["token"] and body["conversation"] is None
    assert body["visitor"]["verified"] is False
    assert body["widget"]["title"] == "Chat with us" and "secret" not in body["widget"]
    assert not SupportConversation.objects.exists()


def test_the_session_says_whether_the_team_has_the_visitors_email(widget):
    token = session(widget).json()["token"]
    assert session(widget, token=token).json()["visitor"]["email_given"] is False
    assert send(widget, token).status_code == 201
    assert session(widget, token=token).json()["visitor"]["email_given"] is False

    frame().post(
        f"/widget/{widget.public_key}/visitor",
        {"email": "kari@example.no"},
        content_type="application/json",
        secure=True,
        HTTP_AUTHORIZATION=f"Visitor {token}",
    )

    again = session(widget, token=token).json()["visitor"]
    assert again["email_given"] is True and "email" not in again


@pytest.mark.parametrize(
    "origin",
    [None, "null", "https://shop.example.com", "https://testserver:8443", "http://testserver"],
)
def test_only_the_widgets_own_frame_may_call(widget, origin):
    client = Client(HTTP_ORIGIN=origin) if origin else Client()

    response = session(widget, client=client)

    assert response.status_code == 403
    assert response.json()["code"] == "origin_not_allowed"


def test_a_token_brings_the_same_visitor_back_and_is_kept_while_young(widget):
    first = session(widget).json()

    again = session(widget, token=first["token"]).json()

    assert again["visitor"]["id"] == first["visitor"]["id"]
    assert again["token"] == first["token"]


def test_a_token_older_than_a_day_is_replaced_for_the_same_visitor(widget, monkeypatch):
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() - 2 * 24 * 3600)
    old = session(widget).json()
    monkeypatch.setattr(time, "time", real)

    renewed = session(widget, token=old["token"]).json()

    assert renewed["visitor"]["id"] == old["visitor"]["id"]
    assert renewed["token"] != old["token"]


def test_a_forged_or_foreign_token_starts_a_new_visit(widget, alice):
    other = services.widget_create(owner=alice, name="Other")
    theirs = session(other).json()
    mine = session(widget).json()

    forged = session(widget, token=mine["token"][:-2] + "xx").json()
    foreign = session(widget, token=theirs["token"]).json()

    assert forged["visitor"]["id"] not in (mine["visitor"]["id"], theirs["visitor"]["id"])
    assert foreign["visitor"]["id"] != theirs["visitor"]["id"]


def test_new_visits_are_limited_per_address(widget, settings):
    settings.PARLEY = {
        **settings.PARLEY,
        "RATE_LIMITS": {**settings.PARLEY["RATE_LIMITS"], "widget_visitors": "3/h"},
    }
    codes = [session(widget).status_code for _ in range(4)]

    assert codes == [200, 200, 200, 429]


# --- identity (HMAC) ----------------------------------------------------------------------


def test_a_visitor_the_site_vouches_for_is_the_same_on_every_device(widget):
    identify = {"id": "user-42", "hash": signature(widget, "user-42")}
    phone = session(widget, identify=identify).json()
    send(widget, phone["token"], "from my phone")

    laptop = session(widget, identify=identify).json()

    assert phone["visitor"]["verified"] and laptop["visitor"]["verified"]
    assert laptop["visitor"]["id"] == phone["visitor"]["id"]
    assert laptop["conversation"]["id"] == SupportConversation.objects.get().pk
    assert SupportConversation.objects.get().verified_id == "user-42"


def test_a_wrong_signature_is_refused_and_an_anonymous_visitor_is_not_merged(widget):
    anonymous = session(widget).json()
    send(widget, anonymous["token"], "anonymous question")

    wrong = session(widget, token=anonymous["token"], identify={"id": "u1", "hash": "00" * 32})
    right = session(
        widget, token=anonymous["token"], identify={"id": "u1", "hash": signature(widget, "u1")}
    ).json()

    assert wrong.status_code == 403 and wrong.json()["code"] == "identity_rejected"
    assert right["visitor"]["id"] != anonymous["visitor"]["id"]
    assert right["conversation"] is None  # the anonymous conversation stays the anonymous one


def test_a_widget_that_requires_identity_refuses_anonymous_visitors(widget, alice):
    services.widget_update(actor=alice, widget=widget, require_identity=True)
    anonymous_token = session(
        widget, identify={"id": "u1", "hash": signature(widget, "u1")}
    ).json()["token"]

    refused = session(widget)

    assert refused.status_code == 403 and refused.json()["code"] == "identity_required"
    assert send(widget, anonymous_token).status_code == 201


# --- sending and reading -------------------------------------------------------------------


def test_a_visitor_writes_and_the_team_sees_who_they_are(widget, alice):
    token = session(widget).json()["token"]

    sent = send(
        widget,
        token,
        "Do you ship to Norway?",
        name="Kari",
        email="kari@example.no",
        page_url="https://shop.example.com/p/1",
        attributes={"plan": "pro"},
        headers={"HTTP_USER_AGENT": "Firefox/140"},
    )
    again = send(widget, token, "Do you ship to Norway?")
    team = Client()
    team.force_login(alice)
    inbox = team.get("/api/v1/inbox").json()

    assert sent.status_code == 201 and again.status_code == 200
    assert again.json()["seq"] == sent.json()["seq"]
    assert sent.json()["sender"]["kind"] == "visitor" and sent.json()["sender"]["name"] == "Kari"
    assert inbox[0]["visitor"]["email"] == "kari@example.no"
    assert inbox[0]["visitor"]["user_agent"] == "Firefox/140"
    assert inbox[0]["visitor"]["attributes"] == {"plan": "pro"}
    assert [m["body"] for m in history(widget, token).json()["results"]] == [
        "Do you ship to Norway?"
    ]


def test_a_reloaded_frame_learns_how_far_its_visitor_has_read(widget, alice):
    # given: a visitor who wrote, two answers from the team, and the first one read
    token = session(widget).json()["token"]
    send(widget, token, "Hello?")
    conversation_id = SupportConversation.objects.get().pk
    agent = Membership.objects.get(conversation_id=conversation_id, user=alice)
    first, _ = chat.message_send(membership=agent, body="Hi!", client_id="a1")
    second, _ = chat.message_send(membership=agent, body="How can I help?", client_id="a2")
    visitor = Membership.objects.get(conversation_id=conversation_id, visitor__isnull=False)
    chat.receipt_mark(membership=visitor, kind="read", seq=first.seq)

    # when: the frame is reloaded and asks for its session
    state = session(widget, token=token).json()["conversation"]

    # then: it can tell that the second answer is unread (the launcher's badge)
    assert state["visitor_read_seq"] == first.seq
    assert state["last_seq"] == second.seq


def test_a_reloaded_frame_learns_that_its_visitor_waits_for_a_person(widget, alice):
    # given: a visitor who wrote and asked for a person
    token = session(widget).json()["token"]
    send(widget, token, "Hello?")
    support = SupportConversation.objects.get()
    assert session(widget, token=token).json()["conversation"]["waiting"] is False
    services.handoff_request(support=support)

    # then: a reloaded frame reads that they wait (it hides "Talk to a human")
    assert session(widget, token=token).json()["conversation"]["waiting"] is True

    # when: someone of the team answers, the wait is over
    agent = Membership.objects.get(conversation_id=support.pk, user=alice)
    chat.message_send(membership=agent, body="Hi, I am here", client_id="a1")
    assert session(widget, token=token).json()["conversation"]["waiting"] is False


def test_a_visitor_reads_only_their_own_conversation(widget):
    first = session(widget).json()["token"]
    second = session(widget).json()["token"]
    send(widget, first, "mine, not yours")

    theirs = history(widget, second).json()

    assert theirs == {"results": [], "has_more": False}


def test_an_agents_session_cookie_is_no_visitor_token(widget, alice):
    client = frame()
    client.force_login(alice)

    read = client.get(f"/widget/{widget.public_key}/messages", secure=True)
    write = client.post(
        f"/widget/{widget.public_key}/messages",
        {"client_id": "x", "body": "hi"},
        content_type="application/json",
        secure=True,
    )

    assert (read.status_code, write.status_code) == (401, 401)
    assert read.json()["code"] == "invalid_visitor_token"


def test_the_pre_chat_form_is_required_when_the_widget_says_so(widget, alice):
    services.widget_update(actor=alice, widget=widget, ask_email="required")
    token = session(widget).json()["token"]

    without = send(widget, token)
    bad = send(widget, token, email="not-an-address")
    given = send(widget, token, email="kari@example.no")
    later = send(widget, token, "and later", client_id="c2")

    assert without.status_code == 400 and without.json()["code"] == "prechat_required"
    assert bad.status_code == 400 and "email" in bad.json()["details"]
    assert (given.status_code, later.status_code) == (201, 201)


@pytest.mark.parametrize(
    "fields",
    [
        {"body": ""},
        {"body": "x" * 4001},
        {"client_id": ""},
        {"name": "n" * 81},
        {"page_url": "javascript:alert(1)"},
        {"attributes": {f"k{i}": "v" for i in range(21)}},
    ],
)
def test_bad_messages_are_refused_with_a_reason_and_leave_nothing(widget, fields):
    token = session(widget).json()["token"]
    body = {"client_id": "c1", "body": "hi", **fields}

    response = frame().post(
        f"/widget/{widget.public_key}/messages",
        body,
        content_type="application/json",
        secure=True,
        HTTP_AUTHORIZATION=f"Visitor {token}",
    )

    assert response.status_code == 400
    assert response.json()["code"] in ("invalid", "message_empty", "message_too_long")
    assert not SupportConversation.objects.exists()


def test_messages_per_visitor_are_limited(widget, settings):
    settings.PARLEY = {
        **settings.PARLEY,
        "RATE_LIMITS": {**settings.PARLEY["RATE_LIMITS"], "widget_messages": "3/10s"},
    }
    token = session(widget).json()["token"]

    codes = [send(widget, token, f"m{i}", client_id=f"c{i}").status_code for i in range(4)]
    refused = send(widget, token, "m9", client_id="c9")

    assert codes == [201, 201, 201, 429]
    assert int(refused["Retry-After"]) >= 1 and refused.json()["code"] == "rate_limited"


def test_an_unknown_widget_key_is_a_404(widget):
    response = frame().post(
        "/widget/pw_nope/session", {}, content_type="application/json", secure=True
    )

    assert response.status_code == 404 and response.json()["code"] == "widget_not_found"


def test_the_frame_reads_its_history_with_the_headers_a_browser_sends(widget):
    # A browser sends no Origin on a same-origin GET, only Sec-Fetch-Site.
    token = session(widget).json()["token"]
    send(widget, token, "mine")

    def read(**headers):
        return Client(**headers).get(
            f"/widget/{widget.public_key}/messages",
            secure=True,
            HTTP_AUTHORIZATION=f"Visitor {token}",
        )

    own = read(HTTP_SEC_FETCH_SITE="same-origin")
    assert own.status_code == 200 and [m["body"] for m in own.json()["results"]] == ["mine"]
    for headers in (
        {},
        {"HTTP_SEC_FETCH_SITE": "same-site"},
        {"HTTP_SEC_FETCH_SITE": "cross-site"},
        {"HTTP_SEC_FETCH_SITE": "same-origin", "HTTP_ORIGIN": "https://shop.example.com"},
    ):
        refused = read(**headers)
        assert refused.status_code == 403, headers
        assert refused.json()["code"] == "origin_not_allowed"


# --- what the site says about its visitor (identify, setAttributes) -------------------


def details(widget, token, **fields):
    return frame().post(
        f"/widget/{widget.public_key}/visitor",
        fields,
        content_type="application/json",
        secure=True,
        HTTP_AUTHORIZATION=f"Visitor {token}",
    )


def test_the_site_tells_the_team_more_about_a_visitor_who_wrote(widget, alice):
    token = session(widget).json()["token"]
    before = details(widget, token, name="Kari", attributes={"plan": "free"})
    send(widget, token, "Hello", attributes={"plan": "free", "cart": "2 items"})

    after = details(
        widget,
        token,
        name="Kari N.",
        email="kari@example.no",
        attributes={"plan": "pro", "cart": ""},
    )
    team = Client()
    team.force_login(alice)
    visitor = team.get("/api/v1/inbox").json()[0]["visitor"]

    # before the first message nothing is stored: the frame sends it with that message
    assert before.status_code == 200 and before.json() == {"stored": False}
    assert after.status_code == 200 and after.json() == {"stored": True}
    assert visitor["name"] == "Kari N." and visitor["email"] == "kari@example.no"
    assert visitor["attributes"] == {"plan": "pro"}  # merged; an empty value removes a key


def test_a_new_name_retitles_the_conversation_for_the_team_live(
    widget, alice, django_capture_on_commit_callbacks
):
    # given: a visitor who wrote as Kari
    token = session(widget).json()["token"]
    send(widget, token, "Hello", name="Kari")
    conversation_id = SupportConversation.objects.get().pk

    # when: the site says their name is Kari N. (identify), then says it again
    with capture() as published, django_capture_on_commit_callbacks(execute=True):
        details(widget, token, name="Kari N.")
        details(widget, token, name="Kari N.")
    team = Client()
    team.force_login(alice)

    # then: the team's list shows the new name, and one durable event said so live
    listed = team.get(f"/api/v1/conversations/{conversation_id}").json()
    assert listed["title"] == "Kari N."
    updates = [json.loads(o.text) for o in published if '"conversation.updated"' in o.text]
    assert [(u["conversation"], u["title"]) for u in updates] == [(conversation_id, "Kari N.")]
    recorded = ConversationEvent.objects.filter(
        conversation_id=conversation_id, type="conversation.updated"
    )
    assert [e.payload["title"] for e in recorded] == ["Kari N."]  # a resume replays it
    assert recorded[0].seq == updates[0]["seq"]


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"email": "not an address"}, "email"),
        ({"name": "x" * 81}, "name"),
        ({"attributes": {"k": ["a list"]}}, "attributes"),
        ({"attributes": {f"k{i}": "v" for i in range(21)}}, "attributes"),
    ],
)
def test_details_are_validated_with_a_reason(widget, fields, field):
    token = session(widget).json()["token"]
    send(widget, token, "Hello")

    response = details(widget, token, **fields)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and field in response.json()["details"]


def test_attributes_stay_within_the_limit_when_merged(widget):
    token = session(widget).json()["token"]
    send(widget, token, "Hello", attributes={f"a{i}": "v" for i in range(15)})

    response = details(widget, token, attributes={f"b{i}": "v" for i in range(6)})

    assert response.status_code == 400 and "attributes" in response.json()["details"]


def test_details_need_the_visitors_token_from_the_frame(widget):
    token = session(widget).json()["token"]

    forged = details(widget, token[:-2] + "xx", name="Eve")
    foreign = Client(HTTP_ORIGIN="https://shop.example.com").post(
        f"/widget/{widget.public_key}/visitor",
        {"name": "Eve"},
        content_type="application/json",
        secure=True,
        HTTP_AUTHORIZATION=f"Visitor {token}",
    )

    assert forged.status_code == 401 and forged.json()["code"] == "invalid_visitor_token"
    assert foreign.status_code == 403 and foreign.json()["code"] == "origin_not_allowed"
