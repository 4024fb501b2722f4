"""Settings, health check and the production checks, as an operator meets them."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "parley.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


# In a fresh process with the environment under test: every probe's status and body.
PROBE_ALL = (
    "import django, json; django.setup();"
    "from django.test import Client;"
    "c = Client(HTTP_HOST='127.0.0.1');"
    "out = {p: (r.status_code, r.json()) for p in ('/healthz', '/readyz', '/livez')"
    " for r in [c.get(p)]};"
    "print(json.dumps(out))"
)


def test_with_debug_off_parley_refuses_the_default_secret_key():
    result = manage("check", DEBUG="false", SECRET_KEY="")

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="chat.example.com",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_healthz_reports_database_and_channel_layer(client):
    response = client.get("/healthz")

    body = response.json()
    assert response.status_code == 200
    assert body["database"]["ok"] is True
    assert body["channel_layer"]["ok"] is True


def test_health_stays_200_when_the_channel_layer_is_down_and_says_so():
    """Redis down takes every process's layer at once while sends still work (from the
    database): readiness reports the layer and stays 200 (parley/health.py)."""
    # A real Redis client pointed at a port where nothing listens.
    result = run(PROBE_ALL, REDIS_URL="redis://127.0.0.1:1/0", DEBUG="true")

    out = json.loads(result.stdout.strip().splitlines()[-1])
    for path in ("/healthz", "/readyz"):
        status, body = out[path]
        assert status == 200
        assert body["status"] == "degraded"
        assert body["channel_layer"]["ok"] is False
        assert body["database"]["ok"] is True
    assert out["/livez"][0] == 200


def test_readiness_answers_503_when_the_database_is_down_and_liveness_200():
    # A real PostgreSQL client pointed at a port where nothing listens.
    result = run(PROBE_ALL, DATABASE_URL="postgres://parley@127.0.0.1:1/parley", REDIS_URL="")

    out = json.loads(result.stdout.strip().splitlines()[-1])
    for path in ("/healthz", "/readyz"):
        status, body = out[path]
        assert status == 503
        assert body["status"] == "unavailable"
        assert body["database"]["ok"] is False
    assert out["/livez"] == [200, {"status": "ok"}]


def test_every_environment_variable_is_documented_in_env_example():
    settings_source = (ROOT / "parley" / "settings.py").read_text()
    example = (ROOT / ".env.example").read_text()
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]*)"', settings_source))
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", example, flags=re.M))

    assert len(read) > 10, "the pattern found too few variables"
    assert read - documented == set()
