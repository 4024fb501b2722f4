"""`make screenshots`: the main screens as PNGs in docs/screenshots/, from a real browser.

Starts a throwaway server (parley/web/liveserver.py) with a few people who already chat,
logs in with headless Chromium (PARLEY_CHROMIUM, default /usr/bin/chromium) and saves the
conversation list, an open conversation, a group (opened at its unread messages, a pinned
message) and its info, the phone layout, the dark theme, the
support inbox and the widgets screen; and the support widget on a shop's page served from
another port.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

PASSWORD = "screenshots-correct-horse"  # noqa: S105 - throwaway users of a throwaway server
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PEOPLE = [
    ("alice", "Alice Liddell"),
    ("bob", "Bob Marley"),
    ("carol", "Carol Danvers"),
    ("dave", "Dave Grohl"),
    ("erin", "Erin Brockovich"),
]

# Chats as (minutes ago, who, text): written by the services, then dated back.
STORY = r"""
from datetime import timedelta
from django.utils import timezone
from parley.accounts.models import User
from parley.chat import selectors, services
from parley.chat.models import Conversation, Message

u = {x.username: x for x in User.objects.all()}
now = timezone.now()

def chat(conversation, lines):
    for n, (ago, who, text) in enumerate(lines):
        m = selectors.membership_for(u[who], conversation.pk)
        msg, _ = services.message_send(membership=m, body=text, client_id=f"s{n}")
        Message.objects.filter(pk=msg.pk).update(created_at=now - timedelta(minutes=ago))
    last = conversation.messages.order_by("-seq").values_list("created_at", flat=True).first()
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=last)

def read(who, conversation):
    conversation.refresh_from_db()
    m = selectors.membership_for(u[who], conversation.pk)
    services.receipt_mark(membership=m, kind="read", seq=conversation.last_seq)

room = Conversation.objects.get(slug=services.PUBLIC_CHAT_SLUG)
for name in u:
    services.public_room_join(user=u[name], conversation=room)
chat(room, [
    (300, "carol", "Welcome to the public room, everyone 👋"),
    (290, "dave", "Is there a place to report bugs?"),
    (288, "carol", "Yes: open an issue, or ask here"),
])

hike = services.conversation_create_group(
    creator=u["carol"], title="Weekend hike", members=[u["alice"], u["dave"], u["erin"]]
)
chat(hike, [
    (95, "carol", "Saturday looks sunny ☀️ Who is in?"),
    (93, "dave", "Me! Same trail as last time?"),
    (90, "erin", "Count me in. I'll bring the snacks"),
    (62, "alice", "I'm in too. Meet at the station at 8?"),
    (58, "carol", "8 works. Route: https://example.com/trails/ridge-loop"),
    (21, "dave", "Don't forget water, it's a long one"),
    (20, "erin", "And sunscreen!"),
])
def react(who, conversation, body, emoji):
    m = selectors.membership_for(u[who], conversation.pk)
    seq = conversation.messages.get(body=body).seq
    services.reaction_add(membership=m, seq=seq, emoji=emoji)

def edit(who, conversation, body, new):
    m = selectors.membership_for(u[who], conversation.pk)
    seq = conversation.messages.get(body=body).seq
    services.message_edit(membership=m, seq=seq, body=new)

for who in ("dave", "erin", "alice"):
    react(who, hike, "Saturday looks sunny ☀️ Who is in?", "👍")
react("carol", hike, "Count me in. I'll bring the snacks", "🎉")
react("alice", hike, "Count me in. I'll bring the snacks", "❤️")
edit("erin", hike, "And sunscreen!", "And sunscreen! And a hat 🧢")
# Carol runs the group: a description, Alice made an admin, the meeting point pinned.
services.conversation_update(
    actor=u["carol"], conversation=hike, about="Saturday, 8:00 at the station"
)
services.group_set_role(actor=u["carol"], conversation=hike, user=u["alice"], role="admin")
route = hike.messages.get(body__startswith="8 works")
services.message_pin(membership=selectors.membership_for(u["carol"], hike.pk), seq=route.seq)

# Pictures and a file in the hike group (docs/files.md): drawn here, sent as anyone would.
import io
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw
from parley.files import services as files

def landscape(sky, ground, sun, w=1200, h=800):
    im = Image.new("RGB", (w, h))
    d = ImageDraw.Draw(im)
    for y in range(h):
        t = y / h
        d.line([(0, y), (w, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(*sky)))
    d.ellipse([w * 0.68, h * 0.16, w * 0.8, h * 0.34], fill=sun)
    for k, (height, shade) in enumerate([(0.42, 0.55), (0.55, 0.75), (0.7, 1.0)]):
        top = h * height
        peaks = [(0, h), (0, top + 80)]
        for i in range(1, 9):
            peaks.append((w * i / 8, top + (60 if (i + k) % 2 else -40)))
        peaks.append((w, h))
        d.polygon(peaks, fill=tuple(int(c * shade) for c in ground))
    out = io.BytesIO()
    im.save(out, format="JPEG", quality=88)
    return out.getvalue()

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n" + b" " * 180000

def send_files(conversation, who, items, body, ago, cid):
    ids = [
        files.upload_create(user=u[who], file=SimpleUploadedFile(name, data), name=name).pk
        for name, data in items
    ]
    m = selectors.membership_for(u[who], conversation.pk)
    msg, _ = files.message_send_with_files(membership=m, body=body, client_id=cid, upload_ids=ids)
    Message.objects.filter(pk=msg.pk).update(created_at=now - timedelta(minutes=ago))
    at = now - timedelta(minutes=ago)
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=at)

sunrise = landscape([(255, 170, 120), (120, 150, 220)], (70, 90, 120), (255, 230, 170))
lake = landscape([(110, 170, 240), (200, 230, 250)], (40, 110, 80), (255, 250, 210))
photos = [("ridge-sunrise.jpg", sunrise), ("lake.jpg", lake)]
send_files(hike, "erin", photos, "Photos from the ridge last month 📸", 16, "f1")
map_pdf = [("ridge-loop-map.pdf", PDF)]
send_files(hike, "dave", map_pdf, "The map, in case the signal drops", 15, "f2")
read("carol", hike)

erin, _ = services.conversation_get_or_create_direct(user=u["erin"], other="alice")
chat(erin, [
    (40, "erin", "Did you get the tickets for Friday?"),
    (38, "erin", "They sell out fast"),
])

dave, _ = services.conversation_get_or_create_direct(user=u["dave"], other="alice")
chat(dave, [(60 * 30, "alice", "Thanks for the guitar lesson!"), (60 * 29, "dave", "Any time 🎸")])
read("alice", dave)
read("dave", dave)

bob, _ = services.conversation_get_or_create_direct(user=u["alice"], other="bob")
chat(bob, [
    (60 * 26, "bob", "Hey Alice, are we still on for the review tomorrow?"),
    (60 * 26 - 2, "alice", "Yes! 10:00 in the small room"),
    (60 * 26 - 3, "bob", "Great, I'll bring the slides"),
    (12, "alice", "Morning! I read the draft, it's really good"),
    (11, "alice", "Two small things: the chart on page 3 and the summary"),
    (9, "bob", "Thanks! Fixing both now"),
    (8, "bob", "Here is the new version: https://example.com/docs/q3-review"),
    (3, "alice", "Perfect, ship it 🚀"),
])
edit("alice", bob, "Two small things: the chart on page 3 and the summary",
     "Two small things: the chart on page 4 and the summary")
react("bob", bob, "Perfect, ship it 🚀", "🎉")
m = selectors.membership_for(u["bob"], bob.pk)
oops = Message.objects.get(conversation=bob, seq=6)
services.message_delete_for_everyone(membership=m, seq=oops.seq)
read("bob", bob)
read("alice", bob)

# Alice's shop has a support widget that Bob answers too; visitors wrote to it.
import uuid
from parley.support import services as support
from parley.support.models import SupportConversation

shop = support.widget_create(
    owner=u["alice"], name="Shop", allowed_origins=["https://shop.example.com"],
    title="Questions? We're here", greeting="We answer within minutes", accent_color="#0f766e",
)
support.agent_add(actor=u["alice"], widget=shop, user=u["bob"])
BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 "
    "Version/17.5 Safari/605.1.15"
)

def visitor(lines, **context):
    vid = uuid.uuid4()
    conversation = None
    for n, (ago, who, text) in enumerate(lines):
        if who == "visitor":
            msg, _ = support.visitor_message_send(
                widget=shop, visitor_id=vid, body=text, client_id=f"v{n}",
                context=support.VisitorContext(user_agent=BROWSER, **context),
            )
            conversation = msg.conversation
        else:
            m = selectors.membership_for(u[who], conversation.pk)
            msg, _ = services.message_send(membership=m, body=text, client_id=f"s{n}")
        Message.objects.filter(pk=msg.pk).update(created_at=now - timedelta(minutes=ago))
    last = now - timedelta(minutes=lines[-1][0])
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=last)
    return SupportConversation.objects.get(pk=conversation.pk)

kari = visitor([
    (7, "visitor", "Hi! Do you ship to Norway?"),
    (6, "alice", "Hello Kari! Yes, we ship all over Europe 🇳🇴"),
    (5, "visitor", "Great. How long does it take to Bergen?"),
    (2, "visitor", "I'd need the boots before the 14th"),
], name="Kari Nordmann", email="kari@example.no",
   page_url="https://shop.example.com/boots/trail-gtx",
   referrer="https://search.example/?q=trail+boots",
   attributes={"plan": "member", "cart": "2 items"})
support.conversation_assign(support=kari, assignee=u["alice"])
support.note_add(actor=u["bob"], support=kari, body="Asked about express delivery last month too.")
read("alice", kari.conversation)
visitor([(25, "visitor", "Is the green jacket back in stock in M?")], name="Jon", page_url="https://shop.example.com/jackets")
ada = visitor([
    (180, "visitor", "My order #4411 has not arrived"),
    (170, "bob", "Sorry about that! It left the warehouse today, here is the tracking link"),
    (160, "visitor", "Got it, thanks!"),
], name="Ada", email="ada@example.com", page_url="https://shop.example.com/orders")
support.conversation_set_status(support=ada, status="resolved")
"""


class Command(BaseCommand):
    help = "Save screenshots of the main screens to docs/screenshots/ (needs Chromium)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--out", default=str(Path(settings.BASE_DIR) / "docs" / "screenshots"))

    def handle(self, *args: Any, **options: Any) -> None:
        from playwright.sync_api import sync_playwright

        from parley.web.liveserver import LiveServer

        chromium = os.environ.get("PARLEY_CHROMIUM", "/usr/bin/chromium")
        if not os.path.exists(chromium):
            raise CommandError(f"No Chromium at {chromium} (apt-get install chromium).")
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        server = LiveServer().start()
        try:
            server.create_users(*PEOPLE, password=PASSWORD)
            server.shell(STORY)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, args=ARGS)
                try:
                    self.shoot(browser, server.url, out)
                    self.shoot_widget(browser, server, out)
                finally:
                    browser.close()
        finally:
            server.stop()
        self.stdout.write(self.style.SUCCESS(f"Screenshots written to {out}/"))

    def shoot(self, browser: Any, url: str, out: Path) -> None:
        desktop = {"width": 1280, "height": 800}
        phone = {"width": 390, "height": 844}

        def person(username: str, **context: Any) -> Any:
            ctx = browser.new_context(device_scale_factor=1, **context)
            page = ctx.new_page()
            page.goto(url + "/")
            page.locator("input[type=email]").fill(f"{username}@example.com")
            page.locator("input[type=password]").fill(PASSWORD)
            page.locator("input[type=password]").press("Enter")
            page.wait_for_url(url + "/")
            page.wait_for_selector("#conversation-list[aria-busy=false]")
            page.wait_for_timeout(400)
            return page

        def open_chat(page: Any, title: str) -> None:
            page.locator("#conversation-list .conv-title", has_text=title).click()
            page.wait_for_selector("#history-status:not(:empty)")
            page.wait_for_timeout(500)

        def save(page: Any, name: str) -> None:
            page.mouse.move(0, 0)
            page.screenshot(path=str(out / name))
            self.stdout.write(f"  {name}")

        # Bob and Dave are online; Bob is typing to Alice.
        bob = person("bob", viewport=desktop)
        person("dave", viewport=desktop)
        alice = person("alice", viewport=desktop)
        save(alice, "list.png")

        open_chat(alice, "Bob Marley")
        open_chat(bob, "Alice Liddell")
        bob.locator("#composer-input").press_sequentially("Will do, sending it to", delay=20)
        alice.wait_for_selector("#typing:not(:empty)")
        alice.locator("#composer-input").fill("Let's celebrate after the review")
        save(alice, "conversation.png")

        open_chat(alice, "Weekend hike")
        save(alice, "group.png")
        # The thumbnails loaded (evaluate, not wait_for_function: the CSP forbids eval).
        done = "[...document.querySelectorAll('.att-image img')].every((i) => i.naturalWidth)"
        for _ in range(50):
            if alice.evaluate(f"() => {done}"):
                break
            alice.wait_for_timeout(100)
        alice.evaluate(
            "() => { const m = document.getElementById('messages'); m.scrollTop = 1e9; }"
        )
        alice.wait_for_timeout(200)
        save(alice, "files.png")

        # The group's info: its description, invite link and members, managed by its admins.
        alice.get_by_role("button", name="Conversation menu").click()
        alice.get_by_role("menuitem", name="Group info").click()
        alice.wait_for_selector("#group-member-list li")
        alice.wait_for_timeout(400)
        save(alice, "group-info.png")
        alice.keyboard.press("Escape")

        # Message search: the results under the chats, the matched words highlighted, one
        # opened at its message.
        alice.locator("#filter").fill("review")
        alice.locator("#filter").press("Enter")
        alice.wait_for_selector("#search-list .search-hit")
        alice.locator("#search-list .search-hit").last.click()
        alice.wait_for_selector("#message-list li.msg.jumped")
        alice.wait_for_timeout(300)
        save(alice, "search.png")
        alice.locator("#filter").fill("")

        dark = person("alice", viewport=desktop, color_scheme="dark")
        open_chat(dark, "Weekend hike")
        save(dark, "dark.png")

        mobile = person("alice", viewport=phone, is_mobile=True, has_touch=True)
        save(mobile, "mobile-list.png")
        open_chat(mobile, "Bob Marley")
        save(mobile, "mobile.png")

        # The support inbox, a visitor's conversation open beside who she is.
        alice.locator("#tab-inbox").click()
        alice.locator("#inbox-list .conv-title", has_text="Kari").click()
        alice.wait_for_selector("#support-notes .note")
        alice.wait_for_selector("#history-status:not(:empty)")
        alice.wait_for_timeout(500)
        save(alice, "inbox.png")
        mobile.goto(url + "/inbox/")
        mobile.wait_for_selector("#inbox-list[aria-busy=false]")
        mobile.wait_for_timeout(400)
        save(mobile, "mobile-inbox.png")
        alice.goto(url + "/widgets/")
        alice.get_by_role("button", name="Edit Shop").click()
        alice.wait_for_timeout(300)
        save(alice, "widgets.png")

    def shoot_widget(self, browser: Any, server: Any, out: Path) -> None:
        """The support widget open on a shop's page (another origin), mid-conversation."""
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        page_html: list[bytes] = []

        class Shop(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(page_html[0])

            def log_message(self, *args: Any) -> None:
                pass

        shop = ThreadingHTTPServer(("127.0.0.1", 0), Shop)
        shop_url = f"http://127.0.0.1:{shop.server_address[1]}"
        threading.Thread(target=shop.serve_forever, daemon=True).start()
        try:
            key = server.shell(WIDGET.replace("SHOP_URL", shop_url)).strip().splitlines()[-1]
            page_html.append(SHOP_PAGE.replace("PARLEY", server.url).replace("KEY", key).encode())
            ctx = browser.new_context(
                device_scale_factor=1, viewport={"width": 1280, "height": 800}
            )
            page = ctx.new_page()
            page.goto(shop_url + "/")
            page.locator("[data-parley-widget] button").click()
            frame = page.frame_locator("[data-parley-widget] iframe")
            frame.locator("#prechat-name").fill("Kari")
            box = frame.locator("#composer-input")
            box.fill("Hi! Do you ship to Norway?")
            box.press("Enter")
            page.wait_for_timeout(800)
            server.shell(ANSWER)
            frame.locator(".msg.theirs:not(.welcome)").wait_for()
            page.wait_for_timeout(500)
            page.mouse.move(0, 0)
            page.screenshot(path=str(out / "widget.png"))
            self.stdout.write("  widget.png")
        finally:
            shop.shutdown()
            shop.server_close()


WIDGET = """
from parley.accounts.models import User
from parley.support import services
alice = User.objects.get(username="alice")
widget = services.widget_create(
    owner=alice, name="Shop", allowed_origins=["SHOP_URL"], title="Ask Tea & Co.",
    greeting="We usually answer within minutes", accent_color="#0e7c66",
    welcome_message="Hello! Questions about an order or a tea? Write to us.", ask_name="optional",
)
print(widget.public_key)
"""

ANSWER = """
from parley.accounts.models import User
from parley.chat import selectors, services
from parley.support.models import SupportConversation
alice = User.objects.get(username="alice")
support = SupportConversation.objects.latest("pk")
membership = selectors.membership_for(alice, support.pk)
body = "Hi Kari! Yes, we ship to Norway in 3-5 days."
services.message_send(membership=membership, body=body, client_id="shot-1")
"""

SHOP_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Tea &amp; Co.</title>
<style>
body { margin: 0; font: 16px/1.5 Georgia, serif; color: #2b2118; background: #faf6f0; }
header { padding: 20px 48px; background: #2b2118; color: #faf6f0; font-size: 22px; }
main { padding: 40px 48px; max-width: 640px; }
h1 { font-size: 34px; margin: 0 0 12px; }
.teas { display: flex; gap: 16px; margin-top: 24px; }
.tea { flex: 1; height: 140px; border-radius: 10px; background: #e8dccb; padding: 12px; }
</style></head><body>
<header>Tea &amp; Co.</header>
<main><h1>Loose-leaf teas, shipped across Europe</h1>
<p>Green, black and oolong teas from small gardens. Free shipping from 40 EUR.</p>
<div class="teas"><div class="tea">Sencha</div><div class="tea">Darjeeling</div>
<div class="tea">Tieguanyin</div></div>
</main>
<script src="PARLEY/widget.js" data-widget="KEY" async></script>
</body></html>"""
