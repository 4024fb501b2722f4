"""The readable side of an export: `messages.html`, one self-contained page written in
pieces (head, a day heading, a message, foot) as the messages are read.

Everything people wrote (names, titles, bodies, file names) goes through `escape`, so a
message is always text, never markup. The page carries no script and no link to anything
outside the zip; its Content-Security-Policy forbids scripts and any load but the
archive's own files (for when the page is opened from a server rather than a disk).
"""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import quote

from django.utils import timezone
from django.utils.html import escape

from parley.chat.models import Message

_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 46rem;
  padding: 1rem; color: #1d2330; background: #fff; }
header.export { border-bottom: 1px solid #d7dbe3; margin-bottom: 1rem; }
header.export p { color: #566; margin: .25rem 0; }
h2.day { font-size: .8rem; color: #566; text-align: center; margin: 1.5rem 0 .5rem; }
article { margin: .5rem 0; padding: .4rem .6rem; border-radius: 8px; background: #f2f4f8; }
article header { font-size: .8rem; color: #566; }
article .who { font-weight: 600; color: #1d2330; }
article .body { white-space: pre-wrap; overflow-wrap: anywhere; margin: .2rem 0 0; }
article .deleted { font-style: italic; color: #778; margin: .2rem 0 0; }
article ul.files { margin: .3rem 0 0; padding-left: 1.2rem; }
@media (prefers-color-scheme: dark) {
  body { background: #14171f; color: #e6e9ef; }
  article { background: #1f2430; }
  article .who { color: #e6e9ef; }
}
"""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; media-src 'self'"


def head(title: str, description: str, exported_at: datetime) -> str:
    when = timezone.localtime(exported_at).strftime("%Y-%m-%d %H:%M %Z")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)} — Parley export</title>\n"
        f"<style>{_STYLE}</style>\n</head>\n<body>\n"
        '<header class="export">\n'
        f"<h1>{escape(title)}</h1>\n"
        f"<p>{escape(description)}</p>\n"
        f"<p>Exported from Parley on {escape(when)}. Times are in {escape(_zone())}.</p>\n"
        "</header>\n<main>\n"
    )


def _zone() -> str:
    return str(timezone.get_current_timezone())


def day(value: date) -> str:
    return f'<h2 class="day">{value.strftime("%A, %d %B %Y")}</h2>\n'


def message(
    message: Message, sender: str, files: list[tuple[str, str]], many_conversations: bool
) -> str:
    """One message; `files` are (name shown, path in the zip)."""
    anchor = (
        f"m{message.conversation_id}-{message.seq}" if many_conversations else f"m{message.seq}"
    )
    local = timezone.localtime(message.created_at)
    where = f" in conversation {message.conversation_id}" if many_conversations else ""
    if message.deleted_at:
        content = '<p class="deleted">This message was deleted.</p>'
    else:
        content = f'<p class="body">{escape(message.body)}</p>'
    if files:
        items = "".join(
            f'<li><a href="{escape(quote(path))}">{escape(name)}</a></li>' for name, path in files
        )
        content += f'<ul class="files">{items}</ul>'
    return (
        f'<article id="{anchor}"><header><span class="who">{escape(sender)}</span> '
        f'<time datetime="{local.isoformat()}">{local.strftime("%H:%M")}</time>'
        f"{escape(where)} · #{message.seq}</header>{content}</article>\n"
    )


def foot() -> str:
    return "</main>\n</body>\n</html>\n"
