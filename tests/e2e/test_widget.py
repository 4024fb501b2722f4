"""The support widget on somebody else's site: a host page served from a second loopback
origin embeds it with the one tag, a visitor chats with the team, and the host page can
neither restyle nor read the chat. The team's side is driven over the REST API and an
agent's websocket (a bearer token), as a script would."""

from __future__ import annotations

import itertools
import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect
from websockets.sync.client import connect as ws_connect

from tests.e2e.people import PASSWORD
from tests.e2e.widget_host import HostSite, Visitor, embed

pytestmark = pytest.mark.e2e

ACCENT = "#0e7c66"


def _http(server: Any, method: str, path: str, body: Any = None, token: str = "", **headers: str):
    request = urllib.request.Request(server.url + path, method=method)
    if body is not None:
        request.data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for name, value in headers.items():
        request.add_header(name.replace("_", "-"), value)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


_n = itertools.count(1)


class Team:
    """A widget's owner, who answers over the REST API and a websocket."""

    def __init__(self, server: Any, host_site: HostSite, **settings: Any) -> None:
        self.server = server
        run = next(_n)
        self.username, self.name = f"owner{run}", "Olivia"
        server.create_users((self.username, self.name), password=PASSWORD)
        status, answer = _http(
            server,
            "POST",
            "/api/v1/auth/token",
            {"email": f"{self.username}@example.com", "password": PASSWORD},
        )
        assert status in (200, 201), answer
        self.token = answer["token"]
        fields = {
            "name": "Shop",
            "allowed_origins": [host_site.url],
            "title": "Ask the shop",
            "greeting": "We usually answer within minutes",
            "welcome_message": "Hi! How can we help?",
            "accent_color": ACCENT,
            **settings,
        }
        status, self.widget = _http(server, "POST", "/api/v1/widgets", fields, self.token)
        assert status == 201, self.widget
        self.key = self.widget["public_key"]

    def api(self, method: str, path: str, body: Any = None) -> Any:
        status, answer = _http(self.server, method, "/api/v1" + path, body, self.token)
        assert status < 400, (status, answer)
        return answer

    def inbox(self, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.api("GET", "/inbox")
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.2)

    @contextmanager
    def socket(self) -> Iterator[Any]:
        """An agent's websocket (a bearer token, as a script connects), resumed."""
        ws_url = self.server.url.replace("http://", "ws://") + "/ws/"
        headers = {"Authorization": f"Bearer {self.token}"}
        with ws_connect(ws_url, additional_headers=headers) as socket:
            assert json.loads(socket.recv(timeout=5))["type"] == "hello"
            socket.send(json.dumps({"type": "resume", "id": "r"}))
            yield socket


def frames_until(socket: Any, predicate: Any, timeout: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        frame = json.loads(socket.recv(timeout=max(0.1, deadline - time.monotonic())))
        if predicate(frame):
            return frame


def test_a_visitor_chats_with_the_team_from_another_sites_page(server, host_site, visitor_page):
    team = Team(server, host_site, ask_name="optional")
    embed(host_site, "/shop", server, team.key)
    visitor = Visitor(page := visitor_page())

    # given: the shop's page with the one tag; its stylesheet hides every div and iframe
    page.goto(host_site.url + "/shop")
    expect(visitor.launcher).to_be_visible()
    assert page.evaluate("window.readyEvents") == 1
    assert page.evaluate("typeof Parley.open") == "function"
    launcher_colour = visitor.launcher.evaluate("b => getComputedStyle(b).backgroundColor")
    assert launcher_colour == "rgb(14, 124, 102)"  # the widget's accent, not the page's

    # when: the visitor opens the chat
    visitor.launcher.click()

    # then: the panel shows, untouched by the page's CSS, with the welcome and the form
    expect(visitor.iframe).to_be_visible()
    expect(visitor.frame.locator("h1")).to_have_text("Ask the shop")
    welcome = visitor.frame.locator(".msg.welcome .body")
    expect(welcome).to_have_text("Hi! How can we help?")
    expect(welcome).to_have_css("visibility", "visible")  # the frame may redraw meanwhile
    assert "Comic" not in welcome.evaluate("e => getComputedStyle(e).fontFamily")
    expect(visitor.frame.locator("#prechat-name")).to_be_visible()

    # when: they give their name and write, with a little markup in it
    visitor.frame.locator("#prechat-name").fill("Vera")
    visitor.write("Hello from the shop <b>page</b>")

    # then: the team's inbox has it, with who wrote and from which page
    (row,) = team.inbox(1)
    conversation = row["id"]
    detail = team.api("GET", f"/inbox/{conversation}")
    assert detail["visitor"]["name"] == "Vera"
    assert detail["visitor"]["page_url"] == host_site.url + "/shop"
    history = team.api("GET", f"/conversations/{conversation}/messages")["results"]
    assert [m["body"] for m in history] == ["Hello from the shop <b>page</b>"]
    # and the visitor's text is text in the frame
    expect(visitor.bodies).to_have_text(["Hello from the shop <b>page</b>"])
    assert visitor.frame.locator("#message-list b").count() == 0

    # when: an agent, on a websocket, starts typing
    with team.socket() as agent:
        frames_until(agent, lambda f: f["type"] == "resumed")
        agent.send(json.dumps({"type": "typing", "conversation": conversation, "active": True}))

        # then: the visitor sees it
        expect(visitor.frame.locator("#typing")).to_have_text("Olivia is typing…")

        # when: the visitor types, the agent sees it
        visitor.composer.fill("One more")
        typing = frames_until(
            agent, lambda f: f["type"] == "typing" and f["who"]["kind"] == "visitor"
        )
        assert typing["active"] is True
        visitor.composer.fill("")

        # when: the agent answers over REST and reads the visitor's message
        team.api(
            "POST",
            f"/conversations/{conversation}/messages",
            {"client_id": "answer-1", "body": "Hello Vera, how can I help?"},
        )
        last = history[-1]["seq"]
        agent.send(
            json.dumps(
                {"type": "receipt", "conversation": conversation, "kind": "read", "seq": last}
            )
        )

        # then: the answer shows in the frame, the typing is gone, and the visitor's
        # message says it was read
        expect(visitor.bodies).to_have_text(
            ["Hello from the shop <b>page</b>", "Hello Vera, how can I help?"]
        )
        expect(visitor.frame.locator("#typing")).to_have_text("")
        mine = visitor.frame.locator(".msg.mine").first
        expect(mine).to_have_attribute("data-state", "read")

        # and the team's side got the visitor's read receipt: the frame is open and seen
        frames_until(
            agent,
            lambda f: (
                f["type"] == "receipt" and f["who"]["kind"] == "visitor" and f["read_seq"] > last
            ),
        )

    # when: the visitor writes again (now over the websocket), then reloads the page
    visitor.write("Do you ship to Norway?")
    expect(visitor.bodies).to_have_count(3)
    expect(visitor.frame.locator(".msg.mine").last).not_to_have_attribute("data-state", "sending")
    page.reload()
    visitor.launcher.click()

    # then: the same conversation, each message once, and no pre-chat form any more
    expect(visitor.bodies).to_have_text(
        ["Hello from the shop <b>page</b>", "Hello Vera, how can I help?", "Do you ship to Norway?"]
    )
    expect(visitor.frame.locator("#prechat")).to_be_hidden()
    assert len(team.inbox(1)) == 1
    stored = team.api("GET", f"/conversations/{conversation}/messages")["results"]
    bodies = [m["body"] for m in stored]
    assert sorted(bodies) == sorted(
        ["Hello from the shop <b>page</b>", "Hello Vera, how can I help?", "Do you ship to Norway?"]
    )

    # and: a script of the host page cannot reach into the frame or find the token
    reach = page.evaluate(
        """() => {
          const widget = document.querySelector('[data-parley-widget]');
          const frame = widget.shadowRoot.querySelector('iframe');
          const tries = {};
          for (const [name, grab] of Object.entries({
            document: () => frame.contentWindow.document.body.innerHTML,
            storage: () => JSON.stringify(frame.contentWindow.localStorage),
            contentDocument: () => frame.contentDocument.body.innerHTML,
          })) {
            try { tries[name] = grab(); } catch (e) { tries[name] = 'refused: ' + e.name; }
          }
          tries.src = frame.src;
          tries.hostStorage = JSON.stringify(localStorage) + document.cookie;
          return tries;
        }"""
    )
    assert reach["document"] == "refused: SecurityError"
    assert reach["storage"] == "refused: SecurityError"
    assert reach["contentDocument"].startswith("refused: ")  # null: cross-origin
    assert "token" not in reach["src"] and ":" not in reach["src"].split("?", 1)[1].replace(
        "%3A", ""
    )
    assert reach["hostStorage"] == "{}"
    assert page.errors == []  # type: ignore[attr-defined]


def test_a_page_of_an_origin_that_is_not_allowed_gets_no_widget(server, host_site, visitor_page):
    team = Team(server, host_site)
    # a visitor who chatted on the real site: a valid token with a conversation
    own = {"Origin": server.url}
    status, session = _http(server, "POST", f"/widget/{team.key}/session", {}, **own)
    token = session["token"]
    status, _ = _http(
        server,
        "POST",
        f"/widget/{team.key}/messages",
        {"client_id": "c1", "body": "hi"},
        Authorization=f"Visitor {token}",
        **own,
    )
    assert status == 201
    subprotocol = "t." + token.replace(":", ".")
    # a page on localhost:<same port> (another origin) embeds it, tries its websocket with
    # the stolen token, and frames the chat claiming to be the allowed origin
    frame_url = f"{server.url}/widget/{team.key}/frame?origin={host_site.url}"
    embed(
        host_site,
        "/elsewhere",
        server,
        team.key,
        extra=(
            "<script>window.socket = new Promise(done => {"
            f" const ws = new WebSocket('{server.url.replace('http', 'ws')}/ws/widget/{team.key}/',"
            f" ['parley.visitor', '{subprotocol}']);"
            " ws.onopen = () => done('open'); ws.onclose = e => done('closed ' + e.code); });"
            "</script>"
            f"<iframe id='forged' src='{frame_url}'></iframe>"
        ),
    )
    page = visitor_page()
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text))

    page.goto(host_site.foreign_url + "/elsewhere")

    assert page.evaluate("window.socket") == "closed 1006"  # the handshake was refused
    page.wait_for_timeout(1000)
    assert page.locator("[data-parley-widget]").count() == 0
    assert page.evaluate("window.readyEvents") == 0
    assert page.evaluate("typeof window.Parley") == "undefined"
    assert any("Parley widget" in m and "not shown" in m for m in messages), messages
    # the forged frame is refused by the browser (frame-ancestors): no chat inside it
    assert page.frame_locator("#forged").locator("#composer-input").count() == 0


def test_on_a_phone_the_panel_fills_the_screen_and_the_api_drives_it(
    server, host_site, visitor_page
):
    team = Team(server, host_site, position="left")
    embed(host_site, "/phone", server, team.key)
    page = visitor_page(viewport={"width": 390, "height": 800})
    visitor = Visitor(page)
    page.goto(host_site.url + "/phone")
    expect(visitor.launcher).to_be_visible()
    box = visitor.launcher.bounding_box()
    assert box and box["x"] < 100  # on the left, as the widget says

    # when: the site opens it from its own script
    page.evaluate("Parley.open()")

    # then: the chat covers the whole screen, the launcher is out of the way
    expect(visitor.iframe).to_be_visible()
    frame_box = visitor.iframe.bounding_box()
    assert frame_box == {"x": 0, "y": 0, "width": 390, "height": 800}
    expect(visitor.launcher).to_be_hidden()

    # when: the site tells who the visitor is; a bad call is refused with its reason
    refused = page.evaluate(
        "Parley.setAttributes('plan').then(() => 'ok', e => e.code + ': ' + e.message)"
    )
    assert refused == "invalid: setAttributes takes an object."
    page.evaluate("Parley.identify({name: 'Pia', email: 'pia@example.com'})")
    page.evaluate("Parley.setAttributes({plan: 'pro', seats: 3})")
    visitor.write("Hi from my phone")
    # (the frame knows its conversation once the server has answered the first message)
    expect(visitor.frame.locator(".msg.mine")).not_to_have_attribute("data-state", "sending")

    # then: the team sees the details with the first message
    (row,) = team.inbox(1)
    detail = team.api("GET", f"/inbox/{row['id']}")
    assert detail["visitor"]["name"] == "Pia"
    assert detail["visitor"]["email"] == "pia@example.com"
    assert detail["visitor"]["attributes"] == {"plan": "pro", "seats": "3"}
    # and later changes go straight to the team
    stored = page.evaluate("Parley.setAttributes({plan: 'enterprise'})")
    assert stored == {"stored": True}
    detail = team.api("GET", f"/inbox/{row['id']}")
    assert detail["visitor"]["attributes"] == {"plan": "enterprise", "seats": "3"}

    # when: the visitor closes the chat with its own button
    visitor.frame.locator("#close").click()

    # then: the launcher is back, and reset() starts a new visit with an empty chat
    expect(visitor.launcher).to_be_visible()
    expect(visitor.iframe).to_be_hidden()
    page.evaluate("Parley.reset()")
    page.evaluate("Parley.toggle()")
    expect(visitor.frame.locator(".msg.welcome")).to_be_visible()
    expect(visitor.bodies).to_have_count(0)


def test_a_lost_answer_a_reload_mid_send_and_a_drop_lose_nothing_and_double_nothing(
    server, host_site, visitor_page
):
    team = Team(server, host_site)
    embed(host_site, "/resume", server, team.key)
    page = visitor_page()
    visitor = Visitor(page)
    sends: list[str] = []

    def lose(reach_server: bool) -> Any:
        def handler(route: Any) -> None:
            if route.request.method != "POST":
                route.continue_()
                return
            if reach_server:
                route.fetch()  # stored, but the visitor's browser never hears back
            sends.append(json.loads(route.request.post_data or "{}")["client_id"])
            route.abort()

        return handler

    def wait_for_sends(count: int) -> None:
        for _ in range(150):  # route handlers run while Playwright waits
            if len(sends) >= count:
                return
            page.wait_for_timeout(100)
        raise AssertionError(f"{len(sends)} sends, not {count}")

    page.goto(host_site.url + "/resume")
    visitor.launcher.click()

    # when: the first message is stored but its answers are lost, twice (a retry)
    page.context.route("**/widget/*/messages", lose(reach_server=True))
    visitor.write("Is anybody there?")
    expect(visitor.frame.locator(".msg.mine")).to_have_attribute("data-state", "sending")
    wait_for_sends(2)
    page.context.unroute("**/widget/*/messages")

    # then: the next retry gets the stored message: once, for the visitor and the team
    expect(visitor.frame.locator(".msg.mine")).to_have_attribute("data-state", "sent")
    assert len(set(sends)) == 1  # every try had the same client_id
    (row,) = team.inbox(1)
    conversation = row["id"]

    def stored() -> list[str]:
        answer = team.api("GET", f"/conversations/{conversation}/messages?limit=100")
        return [m["body"] for m in reversed(answer["results"])]

    assert stored() == ["Is anybody there?"]
    expect(visitor.bodies).to_have_text(["Is anybody there?"])

    # when: the next message never reaches the server, and the visitor reloads the page
    expect(visitor.frame.locator("body")).to_have_attribute("data-link", "ready")
    # (its new sockets reach no server and never say hello: the message goes over HTTP)
    sockets_reach_server = [False]
    page.context.route_web_socket(
        "**/ws/widget/**", lambda ws: ws.connect_to_server() if sockets_reach_server[0] else None
    )
    page.context.set_offline(True)
    expect(visitor.frame.locator("body")).to_have_attribute("data-link", "offline")
    page.context.set_offline(False)
    expect(visitor.frame.locator("body")).to_have_attribute("data-link", "connecting")
    page.context.route("**/widget/*/messages", lose(reach_server=False))
    visitor.write("Hello again?")
    wait_for_sends(3)
    page.context.unroute("**/widget/*/messages")
    sockets_reach_server[0] = True
    page.reload()
    visitor.launcher.click()

    # then: the frame sends it again from its outbox, with the same client_id: once
    expect(visitor.bodies).to_have_text(["Is anybody there?", "Hello again?"])
    assert stored() == ["Is anybody there?", "Hello again?"]

    # when: the visitor's connection drops and the team answers meanwhile
    expect(visitor.frame.locator("body")).to_have_attribute("data-link", "ready")
    page.context.set_offline(True)
    expect(visitor.frame.locator("body")).to_have_attribute("data-link", "offline")
    for n in range(3):
        team.api(
            "POST",
            f"/conversations/{conversation}/messages",
            {"client_id": f"away-{n}", "body": f"While you were away {n}"},
        )
    page.context.set_offline(False)

    # then: the frame resumes and shows each answer once, in order
    away = [f"While you were away {n}" for n in range(3)]
    expect(visitor.bodies).to_have_text(["Is anybody there?", "Hello again?", *away])
    expect(visitor.frame.locator("body")).to_have_attribute("data-link", "ready")
    page.wait_for_timeout(500)
    expect(visitor.bodies).to_have_count(5)


def test_outside_business_hours_the_visitor_reads_when_the_team_is_back_and_leaves_an_email(
    server, host_site, browser
):
    # given: a widget whose only hours are 09:00-17:00 UTC two days from now: closed now
    opening = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(
        days=2
    )
    day = opening.strftime("%a").lower()
    team = Team(
        server,
        host_site,
        time_zone="UTC",
        hours={day: [["09:00", "17:00"]]},
        offline_message="We are out until our next opening.",
    )
    embed(host_site, "/closed", server, team.key)
    # a visitor in Tokyo (UTC+9), whose browser writes dates the British way
    context = browser.new_context(
        viewport={"width": 1200, "height": 800}, timezone_id="Asia/Tokyo", locale="en-GB"
    )
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        visitor = Visitor(page)
        page.goto(host_site.url + "/closed")
        visitor.launcher.click()

        # then: the frame shows the offline message, and when the team is back in Tokyo time
        offline = visitor.frame.locator("#offline")
        expect(offline).to_contain_text("We are out until our next opening.")
        in_tokyo = opening + timedelta(hours=9)
        day_in_tokyo = f"{in_tokyo.strftime('%A')} {in_tokyo.day} {in_tokyo.strftime('%B')}"
        expect(offline).to_contain_text(f"We are back {day_in_tokyo} at 18:00.")

        # when: they write, and leave their email in the offline form
        visitor.write("Are you open on Sunday?")
        (row,) = team.inbox(1)
        email = visitor.frame.get_by_label("Leave your email and we will answer there")
        email.fill("not an address")
        visitor.frame.get_by_role("button", name="Save").click()
        expect(visitor.frame.locator("#error")).to_contain_text("email address")
        email.fill("kari@example.no")
        visitor.frame.get_by_role("button", name="Save").click()

        # then: the frame thanks them, and the team's inbox has the email
        expect(visitor.frame.locator("#offline-thanks")).to_have_text(
            "Thanks! We will write to you at kari@example.no."
        )
        detail = team.api("GET", f"/inbox/{row['id']}")
        assert detail["visitor"]["email"] == "kari@example.no"

        # and after a reload the frame does not ask again, while it still says it is away
        page.reload()
        visitor.launcher.click()
        expect(offline).to_contain_text("We are out until our next opening.")
        expect(visitor.bodies).to_have_text(["Are you open on Sunday?"])
        expect(visitor.frame.locator("#offline-email-form")).to_be_hidden()
        assert errors == []
    finally:
        context.close()


def test_a_message_written_before_the_visit_has_started_is_sent_once_it_has(
    server, host_site, visitor_page
):
    # given: a widget with nobody online, whose offline notice shows before the visit starts
    team = Team(server, host_site)
    embed(host_site, "/slow", server, team.key)
    page = visitor_page()
    visitor = Visitor(page)
    held: list[Any] = []

    def hold(route: Any) -> None:
        held.append(route)

    page.route("**/widget/*/session", hold)  # the session's answer is late
    page.goto(host_site.url + "/slow")
    visitor.launcher.click()
    expect(visitor.frame.locator("#offline")).to_be_visible()

    # when: the visitor writes while the session is still on its way
    visitor.write("Anyone there?")
    expect(visitor.bodies).to_have_text(["Anyone there?"])
    assert team.inbox(1, timeout=1) == []

    # then: once the session answers, the message is sent, once, and nothing is refused
    (session,) = held
    session.continue_()
    (row,) = team.inbox(1)
    history = team.api("GET", f"/conversations/{row['id']}/messages")["results"]
    assert [m["body"] for m in history] == ["Anyone there?"]
    expect(visitor.frame.locator("#error")).to_be_hidden()
    expect(visitor.composer).to_have_value("")
    assert page.errors == []


def test_the_visitor_sees_the_bots_answers_as_a_bots(server, host_site, visitor_page):
    team = Team(server, host_site)
    team.api(
        "PATCH",
        f"/widgets/{team.widget['id']}/bot",
        {"enabled": True, "name": "Shop bot", "greeting": "Hello from the shop's bot!"},
    )
    embed(host_site, "/bot", server, team.key)
    page = visitor_page()
    visitor = Visitor(page)
    page.goto(host_site.url + "/bot")
    visitor.launcher.click()

    # when: the visitor writes, and the bot greets them
    visitor.write("Hi there")

    # then: the greeting names the bot with a "Bot" badge
    greeting = visitor.frame.locator("#message-list .msg.from-bot")
    expect(greeting.locator(".body")).to_have_text("Hello from the shop's bot!")
    expect(greeting.locator(".who")).to_have_text("Shop bot Bot")
    expect(greeting.locator(".bot-badge")).to_have_text("Bot")
    expect(visitor.frame.locator("#message-list .msg.mine .bot-badge")).to_have_count(0)
    assert page.errors == []


def test_after_a_handoff_the_agents_reply_stops_the_bot(server, host_site, visitor_page):
    team = Team(server, host_site)
    team.api(
        "PATCH",
        f"/widgets/{team.widget['id']}/bot",
        {
            "enabled": True,
            "name": "Shop bot",
            "rules": [{"keywords": ["shipping"], "answer": "Shipping takes three days."}],
            # nobody of the team has a socket open: without a person the bot would say so
            "fallback": "Nobody is here right now, we will write back.",
        },
    )
    embed(host_site, "/handoff", server, team.key)
    page = visitor_page()
    visitor = Visitor(page)
    page.goto(host_site.url + "/handoff")
    visitor.launcher.click()
    bot_answers = visitor.frame.locator("#message-list .msg.from-bot .body")

    # given: the bot answers a question it knows
    visitor.write("How long does shipping take?")
    expect(bot_answers).to_have_text(["Shipping takes three days."])
    (row,) = team.inbox(1)

    # when: the visitor asks for a person, and an agent answers
    visitor.frame.get_by_role("button", name="Talk to a human").click()
    expect(
        visitor.frame.get_by_text("Someone from the team has been asked to join.")
    ).to_be_visible()
    team.api(
        "POST",
        f"/conversations/{row['id']}/messages",
        {"client_id": "agent-1", "body": "Hi, Olivia here. Let me look."},
    )
    expect(visitor.bodies.last).to_have_text("Hi, Olivia here. Let me look.")

    # then: the same question is the agent's to answer now: the bot says nothing more
    visitor.write("And shipping to Norway?")
    mine = visitor.frame.locator("#message-list .msg.mine").last
    expect(mine.locator(".body")).to_have_text("And shipping to Norway?")
    # acknowledged: the bot, which decides before the acknowledgement, has had its say
    expect(mine).to_have_attribute("data-state", re.compile("sent|delivered|read"))
    history = team.api("GET", f"/conversations/{row['id']}/messages")["results"]
    in_order = sorted(history, key=lambda m: m["seq"])
    assert in_order[-1]["body"] == "And shipping to Norway?"
    by_bot = [m["body"] for m in in_order if m["sender"]["kind"] == "bot"]
    assert by_bot == [
        "Shipping takes three days.",
        "I am asking someone from the team to join you.",
    ]
    expect(bot_answers).to_have_count(2)
    assert page.errors == []


def test_the_visitor_asks_for_a_human_and_rates_the_resolved_conversation(
    server, host_site, visitor_page
):
    team = Team(server, host_site, ratings=True)
    embed(host_site, "/human", server, team.key)
    page = visitor_page()
    visitor = Visitor(page)
    page.goto(host_site.url + "/human")
    visitor.launcher.click()
    human = visitor.frame.get_by_role("button", name="Talk to a human")
    expect(human).to_be_hidden()  # nothing to hand over before the first message

    # when: the visitor writes, then asks for a person
    visitor.write("My order never arrived")
    expect(human).to_be_visible()
    (row,) = team.inbox(1)
    human.click()

    # then: the frame says the team was asked, and the team's inbox has them waiting
    expect(
        visitor.frame.get_by_text("Someone from the team has been asked to join.")
    ).to_be_visible()
    expect(human).to_be_hidden()
    assert team.api("GET", f"/inbox/{row['id']}")["waiting_for_agent"] is True

    # and a reload does not forget that they wait
    page.reload()
    visitor.launcher.click()
    expect(visitor.bodies.first).to_have_text("My order never arrived")
    expect(
        visitor.frame.get_by_text("Someone from the team has been asked to join.")
    ).to_be_visible()
    expect(human).to_be_hidden()

    # when: the team resolves the conversation
    rating = visitor.frame.locator("#rating")
    expect(rating).to_be_hidden()
    team.api("PATCH", f"/inbox/{row['id']}", {"status": "resolved"})

    # then: the frame asks for a rating; a send without a score is refused in place
    expect(rating.get_by_role("group", name="How was this conversation?")).to_be_visible()
    rating.get_by_role("button", name="Send rating").click()
    expect(visitor.frame.locator("#error")).to_have_text("Please choose a score from 1 to 5.")
    rating.get_by_text("4", exact=True).click()
    rating.get_by_label("Comment (optional)").fill("Found it in the end")
    rating.get_by_role("button", name="Send rating").click()
    expect(rating.get_by_text("Thanks for your rating!")).to_be_visible()
    detail = team.api("GET", f"/inbox/{row['id']}")
    assert detail["rating"]["score"] == 4
    assert detail["rating"]["comment"] == "Found it in the end"

    # and writing again opens it: the prompt goes away
    visitor.write("One more thing")
    expect(rating).to_be_hidden()
    assert page.errors == []
