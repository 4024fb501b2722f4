"""Talking to a real server process about files: a multipart upload and a download, with
a bearer token (urllib only)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from typing import Any


def call(
    base: str, token: str, method: str, path: str, body: bytes | None = None, ctype: str = ""
) -> tuple[int, Any, bytes]:
    request = urllib.request.Request(f"{base}{path}", data=body, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    if ctype:
        request.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def upload(base: str, token: str, name: str, data: bytes) -> tuple[int, Any]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    status, _, raw = call(
        base, token, "POST", "/api/v1/uploads", body, f"multipart/form-data; boundary={boundary}"
    )
    return status, json.loads(raw)


def send(base: str, token: str, conversation: int, ids: list[str], body: str = "") -> Any:
    payload = {"client_id": uuid.uuid4().hex, "body": body, "attachments": ids}
    status, _, raw = call(
        base,
        token,
        "POST",
        f"/api/v1/conversations/{conversation}/messages",
        json.dumps(payload).encode(),
        "application/json",
    )
    return status, json.loads(raw)
