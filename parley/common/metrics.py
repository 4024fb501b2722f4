"""Prometheus metrics of this process, at `GET /metrics` with the metrics token.

On with `PARLEY_METRICS_TOKEN` (settings.PARLEY["METRICS_TOKEN"]); without it neither the
endpoint nor the HTTP counting exists. `MetricsMiddleware` comes first in the stack:

- `GET /metrics` with `Authorization: Bearer <token>` answers the text format of the
  official client (prometheus_client); any other credential is a 401. It is answered
  before the Host check and the HTTPS redirect, like the probes: Prometheus scrapes each
  process on its own address (docs/deployment.md, "Metrics").
- every other request is counted by route (the URL pattern, never the path with its ids),
  method and status, and timed by route.

Each process has its own endpoint and its own numbers, scraped as its own target (no
multiprocess mode: the processes are separate servers on separate ports, nothing forks
after start; docs/operations.md, "Metrics"). The gateway's numbers are plain counts kept
by parley/common/counts.py and read here at scrape time (`GatewayCollector`).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Iterator
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.decorators import sync_and_async_middleware
from prometheus_client import REGISTRY, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from parley.common import counts

PATH = "/metrics"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

http_requests = Counter(
    "parley_http_requests",
    "HTTP requests answered, by route (URL pattern), method and status.",
    ["route", "method", "status"],
)
http_seconds = Histogram(
    "parley_http_request_duration_seconds",
    "Time to answer an HTTP request (the response's headers), by route.",
    ["route"],
    buckets=counts.SECONDS,
)


def _histogram(h: counts.Histogram, labels: dict[str, str] | None = None) -> Any:
    family = HistogramMetricFamily(h.name, h.doc, labels=list(labels or {}))
    cumulative, running = [], 0
    for bound, n in zip((*h.bounds, float("inf")), h.counts, strict=True):
        running += n
        cumulative.append((str(bound) if bound != float("inf") else "+Inf", running))
    family.add_metric(list((labels or {}).values()), cumulative, h.sum)
    return family


class GatewayCollector(Collector):
    """The counts of parley/common/counts.py as Prometheus families, read at scrape."""

    def collect(self) -> Iterator[Any]:
        for name, value in counts.gateway.as_dict().items():
            yield CounterMetricFamily(f"parley_{name}", counts.DOCS[name], value=value)
        g = counts.gateway
        yield GaugeMetricFamily(
            "parley_sockets_open",
            "Websockets open on this process.",
            value=g.sockets_opened - g.sockets_closed,
        )
        for name, value in counts.gauges().items():
            yield GaugeMetricFamily(f"parley_{name}", counts.gauge_doc(name), value=value)
        refusals = CounterMetricFamily(
            "parley_rate_limit_refusals",
            "Requests, frames and sockets refused by a limit, by limit.",
            labels=["limit"],
        )
        for limit, n in sorted(counts.refusals().items()):
            refusals.add_metric([limit], n)
        yield refusals
        yield _histogram(counts.ack_seconds)
        yield _histogram(counts.db_hop_seconds)
        yield _histogram(counts.layer_batch_events)
        yield _histogram(counts.outbox_wait_seconds)
        yield _histogram(counts.reorder_wait_seconds)
        for kind, h in sorted(counts.batches().items()):
            yield _histogram(h, {"kind": kind})

    def describe(self) -> Iterator[Any]:
        return iter(())  # families vary (gauges registered later): collected at each scrape


REGISTRY.register(GatewayCollector())


def _route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.route or match.view_name or "unnamed"
    path = request.path_info
    if path.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return "static"
    if path in ("/livez", "/readyz", "/healthz"):
        return path.lstrip("/")
    return "unmatched"  # a 404 before any view, or a middleware's own answer


def _authorized(request: HttpRequest) -> bool:
    token = settings.PARLEY["METRICS_TOKEN"]
    given = request.headers.get("Authorization", "")
    return bool(token) and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def scrape(request: HttpRequest) -> HttpResponse:
    if not _authorized(request):
        response = HttpResponse("metrics token required\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE)


def _count(request: HttpRequest, response: HttpResponseBase, started: float) -> None:
    route = _route(request)
    http_requests.labels(route, request.method, str(response.status_code)).inc()
    http_seconds.labels(route).observe(time.perf_counter() - started)


@sync_and_async_middleware
def MetricsMiddleware(get_response: Callable[..., Any]) -> Callable[..., Any]:  # noqa: N802
    if iscoroutinefunction(get_response):

        async def async_middleware(request: HttpRequest) -> Any:
            if request.path_info == PATH and request.method in ("GET", "HEAD"):
                return scrape(request)
            started = time.perf_counter()
            response = await get_response(request)
            _count(request, response, started)
            return response

        return async_middleware

    def middleware(request: HttpRequest) -> Any:
        if request.path_info == PATH and request.method in ("GET", "HEAD"):
            return scrape(request)
        started = time.perf_counter()
        response = get_response(request)
        _count(request, response, started)
        return response

    return middleware
