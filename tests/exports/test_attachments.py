"""Files of messages: what a registered source yields goes into the zip beside its message
(parley/exports/attachments.py, the extension point attachments plug into)."""

from __future__ import annotations

import io

import pytest

from parley.chat import selectors, services
from parley.exports import attachments, scopes

pytestmark = pytest.mark.django_db


@pytest.fixture
def files_of_messages():
    """A source giving each message whose body starts with "file:" one file named after
    the rest of its body; and how often the source was asked, with how many messages."""
    asked: list[int] = []

    def source(messages):
        asked.append(len(messages))
        for m in messages:
            if m.body.startswith("file:"):
                name = m.body[5:]
                data = f"contents of {name}".encode()
                yield (
                    m.pk,
                    attachments.ExportFile(
                        name=name, open=lambda d=data: io.BytesIO(d), size=len(data)
                    ),
                )

    attachments.register(source)
    yield asked
    attachments.unregister(source)


def test_a_messages_files_are_in_the_zip_listed_and_linked(
    alice, bob, direct, say, written, files_of_messages
):
    chat = direct(alice, bob)
    report = say(alice, chat, "file:report.pdf")
    say(bob, chat, "no file here")
    sneaky = say(bob, chat, "file:../../etc/<passwd>")

    out = written(scopes.member_archive(selectors.membership_for(alice, chat.pk)))

    listed = [m.get("files", []) for m in out.messages]
    assert listed[1] == []
    assert listed[0] == [
        {
            "name": "report.pdf",
            "path": f"files/{report.seq}/1-report.pdf",
            "size": 22,
            "content_type": "application/octet-stream",
        }
    ]
    assert out.files[f"files/{report.seq}/1-report.pdf"] == b"contents of report.pdf"
    # A name is only ever a name: no directories, nothing a file system refuses.
    sneaky_path = listed[2][0]["path"]
    assert sneaky_path == f"files/{sneaky.seq}/1-_passwd_"
    assert out.files[sneaky_path] == b"contents of ../../etc/<passwd>"
    assert f'href="{listed[0][0]["path"]}"' in out.html
    assert "../../etc/&lt;passwd&gt;" in out.html  # the name shown, escaped
    assert all(n == 3 for n in files_of_messages)  # one call per page of messages


def test_a_message_deleted_for_everyone_or_hidden_for_me_brings_no_file(
    alice, bob, direct, say, written, files_of_messages
):
    chat = direct(alice, bob)
    gone = say(bob, chat, "file:gone.txt")
    hidden = say(bob, chat, "file:hidden.txt")
    services.message_delete_for_everyone(
        membership=selectors.membership_for(bob, chat.pk), seq=gone.seq
    )
    services.message_delete_for_me(
        membership=selectors.membership_for(alice, chat.pk), seq=hidden.seq
    )

    out = written(scopes.member_archive(selectors.membership_for(alice, chat.pk)))

    assert not [n for n in out.names if n.startswith("files/")]
    assert "hidden.txt" not in out.everything()
