"""Files in the browser: paste a picture and the other side sees its thumbnail live and
opens it in the lightbox; drop a PDF and the other side downloads it; a file over the
limit is refused before it is uploaded (docs/files.md)."""

from __future__ import annotations

import base64
import io
import time

import pytest
from PIL import Image
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

_FILES_IN_PAGE = """
([kind, target, files]) => {
  const dt = new DataTransfer();
  for (const [name, type, b64, size] of files) {
    const bytes = b64 ? Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)) : new Uint8Array(size);
    dt.items.add(new File([bytes], name, { type }));
  }
  const el = document.querySelector(target);
  if (kind === "paste") {
    const init = { clipboardData: dt, bubbles: true, cancelable: true };
    el.dispatchEvent(new ClipboardEvent("paste", init));
  } else {
    for (const type of ["dragenter", "dragover", "drop"]) {
      el.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    }
  }
}
"""


def _png(size: tuple[int, int]) -> str:
    out = io.BytesIO()
    Image.new("RGB", size, (220, 120, 40)).save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


def _wait_for_width(page, selector: str, width: int, timeout: float = 10.0) -> None:
    """Until the image `selector` has loaded, `width` pixels wide (wait_for_function
    would need eval, which the page's Content-Security-Policy forbids)."""
    deadline = time.monotonic() + timeout
    while True:
        got = page.evaluate("(s) => document.querySelector(s)?.naturalWidth", selector)
        if got == width:
            return
        assert time.monotonic() < deadline, f"{selector} is {got} px wide, not {width}"
        time.sleep(0.1)


def _chat(people):
    alice, bob = people("alice", "bob")
    alice.start_chat(bob.email)
    alice.send("Hi")
    bob.open("Alice")
    return alice, bob


def test_paste_an_image_the_other_side_sees_its_thumbnail_live_and_opens_it(people):
    alice, bob = _chat(people)

    # when: Alice pastes a screenshot, writes a caption and sends
    alice.page.evaluate(
        _FILES_IN_PAGE, ["paste", "#composer-input", [["", "image/png", _png((900, 600)), 0]]]
    )
    expect(alice.page.locator(".tray-item.done .tray-thumb")).to_be_visible()
    alice.page.locator("#composer-input").fill("The view from here")
    alice.page.locator("#composer-input").press("Enter")

    # then: Bob sees its thumbnail live, under the caption's message
    thumb = bob.page.locator("#message-list li.msg .att-image img")
    expect(thumb).to_be_visible()
    expect(bob.message("The view from here")).to_be_visible()
    _wait_for_width(bob.page, "#message-list .att-image img", 480)
    expect(alice.page.locator("#composer-tray")).to_be_hidden()

    # when: he opens it, the lightbox shows it at full size
    bob.page.get_by_role("button", name="Open image").click()
    lightbox = bob.page.locator("dialog.lightbox")
    expect(lightbox).to_be_visible()
    _wait_for_width(bob.page, ".lightbox-img", 900)
    expect(lightbox.locator("figcaption")).to_contain_text("Download")
    bob.page.keyboard.press("Escape")
    expect(lightbox).to_be_hidden()
    assert alice.errors == [] and bob.errors == []


def test_drop_a_pdf_the_other_side_gets_a_download_link(people):
    alice, bob = _chat(people)
    pdf = base64.b64encode(b"%PDF-1.4\n%%EOF\n" + b" " * 2000).decode()

    alice.page.evaluate(
        _FILES_IN_PAGE, ["drop", "#conversation", [["minutes.pdf", "application/pdf", pdf, 0]]]
    )
    expect(alice.page.locator(".tray-item.done")).to_contain_text("minutes.pdf")
    alice.page.locator("#composer-input").press("Enter")

    link = bob.page.locator("#message-list a.att-file")
    expect(link).to_contain_text("minutes.pdf")
    expect(link).to_contain_text("2.0 KB")
    with bob.page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "minutes.pdf"


def test_a_file_over_the_limit_is_refused_with_a_clear_message(people):
    alice, _ = _chat(people)

    alice.page.evaluate(
        _FILES_IN_PAGE,
        ["drop", "#conversation", [["huge.zip", "application/zip", "", 26 * 1024 * 1024]]],
    )

    expect(alice.page.locator(".toast", has_text="huge.zip")).to_have_text(
        '"huge.zip" is too large (26 MB): a file may be at most 25 MB.'
    )
    expect(alice.page.locator("#composer-tray")).to_be_hidden()


def test_a_file_of_a_type_not_allowed_is_refused_by_the_server(people):
    alice, _ = _chat(people)
    html = base64.b64encode(b"<!doctype html><script>alert(1)</script>").decode()

    alice.page.evaluate(
        _FILES_IN_PAGE, ["drop", "#conversation", [["cat.jpg", "image/jpeg", html, 0]]]
    )

    expect(alice.page.locator(".toast", has_text="cat.jpg")).to_have_text(
        '"cat.jpg" was not sent: Files of this type cannot be sent.'
    )
    expect(alice.page.locator(".tray-item.failed")).to_be_visible()


def test_files_wait_in_their_own_conversation_like_a_draft(people):
    alice, bob, carol = people("alice", "bob", "carol")
    alice.start_chat(carol.email)
    expect(alice.page.locator("#conv-title")).to_have_text("Carol")
    alice.send("Hi Carol")
    expect(alice.message("Hi Carol")).to_be_visible()
    alice.start_chat(bob.email)
    expect(alice.page.locator("#conv-title")).to_have_text("Bob")
    alice.send("Hi Bob")
    expect(alice.message("Hi Bob")).to_be_visible()
    pdf = base64.b64encode(b"%PDF-1.4\n%%EOF\n").decode()

    alice.page.evaluate(
        _FILES_IN_PAGE, ["drop", "#conversation", [["for-bob.pdf", "application/pdf", pdf, 0]]]
    )
    expect(alice.page.locator(".tray-item.done")).to_contain_text("for-bob.pdf")
    alice.open("Carol")
    expect(alice.page.locator("#composer-tray")).to_be_hidden()
    alice.open("Bob")
    bob.open("Alice")

    expect(alice.page.locator(".tray-item.done")).to_contain_text("for-bob.pdf")
    alice.page.locator("#composer-input").press("Enter")
    expect(bob.page.locator("#message-list a.att-file")).to_contain_text("for-bob.pdf")
