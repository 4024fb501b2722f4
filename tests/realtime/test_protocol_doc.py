"""docs/protocol.md documents every frame and every error code the gateway can send."""

from __future__ import annotations

import json
import re
from pathlib import Path

from parley.chat import errors as chat_errors
from parley.common.errors import DomainError
from parley.events import protocol as p

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "protocol.md").read_text()


def documented_headings() -> set[str]:
    return set(re.findall(r"^### (\S+)$", DOC, flags=re.M))


def test_every_client_command_has_a_section():
    missing = {p.frame_type(m) for m in p.CLIENT_COMMANDS} - documented_headings()
    assert missing == set()


def test_every_server_event_has_a_section():
    missing = {p.frame_type(m) for m in p.SERVER_EVENTS} - documented_headings()
    assert missing == set()


def test_every_error_code_is_in_the_error_table():
    source = "\n".join(
        path.read_text()
        for package in ("realtime", "events")
        for path in (ROOT / "parley" / package).glob("*.py")
    )
    protocol_codes = set(re.findall(r'ProtocolError\(\s*"([a-z_]+)"', source))
    domain_codes = {
        cls.code
        for cls in vars(chat_errors).values()
        if isinstance(cls, type)
        and issubclass(cls, DomainError)
        and cls.__module__ == chat_errors.__name__
    }
    table = set(re.findall(r"^\| `([a-z_]+)` \|", DOC, flags=re.M))

    assert protocol_codes, "the pattern found no ProtocolError codes"
    assert (protocol_codes | domain_codes | {"internal_error"}) - table == set()


def test_every_json_example_in_the_doc_is_a_valid_frame():
    blocks = [b for b in re.findall(r"```json\n(.*?)```", DOC, flags=re.S) if '"type"' in b]
    assert len(blocks) > 20
    for block in blocks:
        try:
            p.parse_command(block, max_bytes=1 << 20)
        except p.ProtocolError:  # not a command: it must be a server event
            p.server_event_adapter.validate_python(json.loads(block))


def test_every_close_code_is_documented():
    source = "\n".join(
        path.read_text()
        for package in ("realtime", "events")
        for path in (ROOT / "parley" / package).glob("*.py")
    )
    codes = set(re.findall(r"^CLOSE_[A-Z_]+ = (\d+)", source, flags=re.M))
    assert codes >= {"4401", "4403", "4008", "4429"}
    assert {code for code in codes if f"**{code}**" not in DOC} == set()
