"""What an operator meets running Parley: probes, the version, the start-up migration
check and a demo command kept out of production (docs/operations.md)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from parley import __version__
from parley.accounts.models import User
from parley.common import processes
from parley.web.liveserver import LiveServer

ROOT = Path(__file__).resolve().parent.parent
PROBES = ("/livez", "/readyz", "/healthz")


def test_the_version_is_pyprojects():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

    assert __version__ == project["version"]


@pytest.mark.django_db
def test_readyz_reports_the_database_the_layer_and_the_version(client):
    response = client.get("/readyz")

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert body["version"] == __version__
    assert body["database"]["ok"] is True
    assert body["channel_layer"]["ok"] is True


@pytest.mark.django_db(transaction=True)
async def test_readyz_answers_503_draining_while_the_process_stops(async_client):
    from parley.realtime.drain import get_drain

    drain = get_drain()  # this loop's: the process, as SIGTERM finds it (parley/shutdown.py)
    drain.draining = True
    try:
        response = await async_client.get("/readyz")
    finally:
        drain.draining = False

    assert response.status_code == 503
    assert response.json()["status"] == "draining"


def test_livez_answers_without_asking_anything_else(client):
    response = client.get("/livez")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_probes_answer_a_direct_request_with_debug_off(settings):
    """A kubelet asks the process on its pod address, over plain HTTP, without the proxy's
    X-Forwarded-Proto: no redirect to https, no 400 for a Host outside ALLOWED_HOSTS."""
    settings.DEBUG = False
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["chat.example.com"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    kubelet = Client(HTTP_HOST="10.0.0.5:8001")

    answers = {path: kubelet.get(path) for path in PROBES}
    page = kubelet.get("/accounts/login/")

    assert {path: r.status_code for path, r in answers.items()} == dict.fromkeys(PROBES, 200)
    assert answers["/readyz"].json()["version"] == __version__
    assert page.status_code == 400  # every other path still checks the Host


@pytest.mark.django_db
def test_the_admin_shows_the_version(client, make_user):
    client.force_login(make_user("boss", is_staff=True, is_superuser=True))

    response = client.get("/admin/")

    assert response.status_code == 200
    assert f"Parley {__version__} administration" in response.content.decode()


@pytest.mark.django_db
def test_parley_demo_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="only with DEBUG on"):
        call_command("parley_demo")

    assert not User.objects.exists()


def test_a_server_refuses_to_start_while_migrations_are_unapplied():
    server = LiveServer()  # a fresh SQLite file, which nothing has migrated
    try:
        with pytest.raises(RuntimeError, match="the server exited"):
            server.launch()
        status = server.proc.returncode if server.proc else None
        log = server.log()

        assert status == 3, log  # uvicorn's "Application startup failed. Exiting."
        assert "Parley refuses to start: the database lacks" in log
        assert "contenttypes.0001_initial" in log
        assert "manage.py migrate" in log
        server.start()  # migrates, then waits for /healthz
    finally:
        server.stop()


def test_parley_skip_migration_check_lets_a_server_start_unmigrated():
    server = LiveServer()
    try:
        server.launch(PARLEY_SKIP_MIGRATION_CHECK="true")
    finally:
        server.stop()


def test_metrics_are_off_without_a_token(client):
    assert client.get("/metrics").status_code == 404


@pytest.mark.django_db
def test_metrics_answer_the_token_only_and_a_scrape_on_the_process_address(settings):
    pytest.importorskip("prometheus_client", reason="prometheus-client is in requirements.in")
    settings.PARLEY = {**settings.PARLEY, "METRICS_TOKEN": "s3cret-scrape"}
    settings.MIDDLEWARE = ["parley.common.metrics.MetricsMiddleware", *settings.MIDDLEWARE]
    settings.DEBUG = False
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["chat.example.com"]
    prometheus = Client(HTTP_HOST="10.0.0.5:8001")

    anonymous = prometheus.get("/metrics")
    wrong = prometheus.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrapE")
    scraped = prometheus.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape")

    assert anonymous.status_code == 401 and wrong.status_code == 401
    assert scraped.status_code == 200
    assert scraped["Content-Type"].startswith("text/plain; version=0.0.4")
    assert b"parley_sockets_open" in scraped.content


def test_the_grafana_dashboard_shows_only_documented_metrics():
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "parley.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = {
        re.sub(r"_(bucket|sum|count)$", "", m) for e in exprs for m in re.findall(r"parley_\w+", e)
    }
    documented = set(re.findall(r"`(parley_\w+)", (ROOT / "docs" / "operations.md").read_text()))

    assert len(used) > 15
    assert used - documented == set()


@pytest.mark.django_db
def test_the_status_page_is_for_staff_and_lists_this_process(client, make_user):
    processes.report()  # what the heartbeat does every few seconds

    anonymous = client.get("/admin/status/")
    client.force_login(make_user("member"))
    member = client.get("/admin/status/")
    client.force_login(make_user("boss", is_staff=True))
    staff = client.get("/admin/status/")

    assert anonymous.status_code == 302 and member.status_code == 302
    assert staff.status_code == 200
    assert processes.PROCESS_ID in staff.content.decode()


@pytest.mark.django_db
def test_the_status_page_shows_the_layer_lag_as_time(client, make_user):
    # given: a process whose hub has an event waiting 1.25 s for the layer (its report)
    processes.report({**processes.snapshot(), "hub_lag_seconds": 1.25, "hub_held_seconds": 0.0})
    client.force_login(make_user("boss", is_staff=True))

    page = client.get("/admin/status/").content.decode()

    assert re.search(r'id="lag">1\.250 s<', page)  # the worst process's, in the summary
    assert re.search(r'class="lag">1\.250 s<', page)  # and in the process's row


@pytest.mark.django_db
def test_the_status_page_marks_a_process_that_is_draining(client, make_user):
    processes.report({**processes.snapshot(), "draining": 1.0})  # SIGTERM: parley/shutdown.py
    client.force_login(make_user("boss", is_staff=True))

    page = client.get("/admin/status/").content.decode()

    assert '<strong class="draining">draining</strong>' in page


@pytest.mark.django_db
def test_the_metrics_give_the_hubs_lag_as_time(settings):
    pytest.importorskip("prometheus_client", reason="prometheus-client is in requirements.in")
    from prometheus_client.parser import text_string_to_metric_families

    settings.PARLEY = {**settings.PARLEY, "METRICS_TOKEN": "s3cret-scrape"}
    settings.MIDDLEWARE = ["parley.common.metrics.MetricsMiddleware", *settings.MIDDLEWARE]

    scraped = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape")

    families = {f.name: f for f in text_string_to_metric_families(scraped.content.decode())}
    assert families["parley_hub_outbox_wait_seconds"].type == "histogram"
    assert families["parley_hub_reorder_wait_seconds"].type == "histogram"
