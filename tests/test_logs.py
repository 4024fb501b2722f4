"""A token put in a URL by mistake is never logged: not by Django, not by the server."""

from __future__ import annotations

import logging

import pytest

from parley.accounts.tokens import token_create
from parley.common.logs import redact

pytestmark = pytest.mark.django_db


def test_a_token_in_the_url_opens_nothing_and_is_blanked_in_every_record(alice, client, caplog):
    key = token_create(user=alice, name="script")[1]
    caplog.set_level(logging.INFO)

    response = client.get(f"/api/v1/conversations?token={key}&limit=5")
    # what uvicorn writes for a websocket handshake with one, with or without access log
    logging.getLogger("uvicorn.error").info(
        '%s - "WebSocket %s" 403', "127.0.0.1:50312", f"/ws/?access_token={key}"
    )
    # what runserver writes for each request
    logging.getLogger("django.server").info(
        '"%s" %s %s', f"GET /api/v1/rooms?api_key={key}&Auth={key} HTTP/1.1", 401, 98
    )

    assert response.status_code == 401  # only the Authorization header is read
    assert "Unauthorized: /api/v1/conversations" in caplog.text
    assert key not in caplog.text
    assert "/ws/?access_token=[redacted]" in caplog.text
    assert "api_key=[redacted]&Auth=[redacted]" in caplog.text


def test_what_is_blanked_and_what_is_not():
    assert redact("/x?limit=5&token=abc&after=3") == "/x?limit=5&token=[redacted]&after=3"
    assert redact("/x?KEY=abc#top") == "/x?KEY=[redacted]#top"
    assert redact("sent prl_AbCdEfGh1234_-xyz to the log") == "sent prl_[redacted] to the log"
    assert redact("monkey=3 tokens=4 /x?keyboard=1") == "monkey=3 tokens=4 /x?keyboard=1"
