"""What a site's page loads to show the widget: the loader script (`/widget.js`) and the
frame it opens (`/widget/<key>/frame`), docs/widget.md "Embedding".

The loader runs in the host page and knows nothing secret: it reads the public settings
and draws the launcher. The chat itself is the frame, a page of Parley's own origin: the
host page can neither read nor restyle it, and the visitor's token stays in the frame's
storage. The frame may be framed only by the one allowed origin that asked for it
(`frame-ancestors`), and it talks to that origin only (postMessage with an exact origin).
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from csp.decorators import csp_replace
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import condition, require_GET

from parley.common.origins import DEFAULT_PORTS, origin_allowed, parse_origin
from parley.support import selectors
from parley.support.views import public_config

LOADER = Path(__file__).resolve().parent / "static" / "support" / "widget.js"
# Sites keep the tag for years: the loader's address never changes, so it is cached for
# an hour and revalidated by its ETag, and a new version reaches every page within that.
LOADER_MAX_AGE = 3600


def _read_loader() -> tuple[bytes, str]:
    code = LOADER.read_bytes()
    return code, hashlib.sha256(code).hexdigest()[:32]


_cached_loader = functools.cache(_read_loader)


def _loader() -> tuple[bytes, str]:
    """The script and its ETag: read once, or at every request with DEBUG (development)."""
    return _read_loader() if settings.DEBUG else _cached_loader()


def _loader_etag(request: HttpRequest) -> str:
    return _loader()[1]


@require_GET
@condition(etag_func=_loader_etag)
def widget_js(request: HttpRequest) -> HttpResponse:
    """`GET /widget.js`: the loader of the embed tag, a plain script for any page."""
    code, _ = _loader()
    response = HttpResponse(code, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = f"public, max-age={LOADER_MAX_AGE}"
    # Loaded by other sites' pages, also those that isolate themselves (COEP).
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def _origin_source(origin: str) -> str | None:
    """The Origin as a CSP source (rebuilt from its parts, never the raw text)."""
    parsed = parse_origin(origin)
    if parsed is None:
        return None
    scheme, host, port = parsed
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" if DEFAULT_PORTS[scheme] == port else f"{scheme}://{host}:{port}"


@require_GET
@xframe_options_exempt  # framing is decided by frame-ancestors below
def frame(request: HttpRequest, key: str) -> HttpResponse:
    """`GET /widget/<key>/frame?origin=<the host page's origin>`: the visitor's chat, to be
    framed by that origin only, which must be one of the widget's allowed origins.
    Otherwise a page that says so, and may be framed by nobody (the default policy)."""
    widget = selectors.widget_by_key(key)
    origin = request.GET.get("origin", "")
    source = _origin_source(origin)
    if widget is None:
        return render(request, "support/frame_refused.html", status=404)
    if source is None or not origin_allowed(
        origin, widget.allowed_origins, https_only=not settings.DEBUG
    ):
        return render(request, "support/frame_refused.html", status=403)
    context = {"config": public_config(widget), "host_origin": source}
    response = render(request, "support/frame.html", context)
    response["Cache-Control"] = "no-store"
    # django-csp's per-view override, applied to this answer: framed by this origin only.
    return csp_replace({"frame-ancestors": [source]})(lambda: response)()
