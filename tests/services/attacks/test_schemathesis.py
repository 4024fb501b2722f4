"""schemathesis against the OpenAPI schemas of a real server process: 0 responses ≥ 500.

Parley's own schema (/api/schema/) is fuzzed with a signed-in user's Bearer token, and
allauth's headless one (/_allauth/openapi.json) anonymously. Each run is bounded (examples
per operation and a time budget) so that it takes about 25 s; with
PARLEY_ATTACKS_FULL=1 it is given more examples and more time. schemathesis runs as its
CLI in a subprocess (its pytest plugin would share this run's event loop and database
fixtures); every response is counted from its HAR report.
"""

from __future__ import annotations

import collections
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from parley.accounts.tokens import token_create
from parley.chat import services
from tests.services.attacks import CI, FULL, report

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ST = Path(sys.executable).with_name("st")
EXAMPLES, BUDGET = (100, 600) if FULL else (15, 25)


def schemathesis(server, schema_url: str, tmp_path: Path, *args: str) -> collections.Counter[int]:
    """Run `st run`; the status code of every response it got, counted."""
    if not ST.exists() and not shutil.which("st"):
        reason = "schemathesis is not installed (pip install -r requirements-dev.lock)"
        if CI:
            pytest.fail(reason)
        pytest.skip(reason)
    har = tmp_path / "responses.har"
    cmd = [
        str(ST if ST.exists() else shutil.which("st")),
        "run",
        schema_url,
        "--checks",
        "not_a_server_error",
        "--max-examples",
        str(EXAMPLES),
        "--max-time",
        str(BUDGET),
        "--seed",
        "20261203",
        "--request-timeout",
        "10",
        "--workers",
        "1",  # hypothesis's lambda descriptions are not thread-safe
        "--no-color",
        "--report",
        "har",
        "--report-har-path",
        str(har),
        *args,
    ]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=BUDGET + 120, cwd=tmp_path)
    statuses: collections.Counter[int] = collections.Counter()
    for entry in json.loads(har.read_text())["log"]["entries"]:
        statuses[entry["response"]["status"]] += 1
    assert statuses, run.stdout[-3000:] + run.stderr[-3000:]
    server_errors = {s: n for s, n in statuses.items() if s >= 500}
    assert server_errors == {}, run.stdout[-6000:] + "\n".join(server.problems())[-6000:]
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    return statuses


def test_parley_api_schema_fuzzed_with_a_token_gets_no_server_error(servers, make_user, tmp_path):
    (server,) = servers(1)
    alice = make_user("alice")
    make_user("bob")
    services.conversation_get_or_create_direct(user=alice, other="bob")
    token = token_create(user=alice)[1]

    statuses = schemathesis(
        server,
        f"{server.http}/api/schema/",
        tmp_path,
        "--header",
        f"Authorization: Bearer {token}",
        # the one operation that would revoke the token the run signs in with
        "--exclude-path",
        "/api/v1/me/tokens/{token_id}",
    )

    assert server.problems() == [], server.log()[-3000:]
    report(
        "schemathesis /api/schema/",
        responses=sum(statuses.values()),
        by_status=dict(sorted(statuses.items())),
        server_errors=0,
        server_log_errors=0,
    )


def test_allauth_headless_schema_fuzzed_gets_no_server_error(servers, tmp_path):
    (server,) = servers(1)

    statuses = schemathesis(server, f"{server.http}/_allauth/openapi.json", tmp_path)

    assert server.problems() == [], server.log()[-3000:]
    report(
        "schemathesis /_allauth/openapi.json",
        responses=sum(statuses.values()),
        by_status=dict(sorted(statuses.items())),
        server_errors=0,
        server_log_errors=0,
    )
