"""The Content-Security-Policy header of every response (django-csp), and the websocket.

The policy itself is `CONTENT_SECURITY_POLICY` in settings: scripts, styles, images,
fonts and connections from this origin only, no inline script or style, no framing. A
view that needs another policy says so with django-csp's decorators, e.g. a page meant
to be framed elsewhere::

    from csp.decorators import csp_replace
    from django.views.decorators.clickjacking import xframe_options_exempt

    @xframe_options_exempt
    @csp_replace({"frame-ancestors": ["https://customer.example"]})
    def widget(request): ...

(`csp_replace` sets a directive for that view; `csp_update` adds sources to one, which
suits a source list but not 'none'.)
"""

from __future__ import annotations

from typing import Any

from csp.middleware import CSPMiddleware, PolicyParts
from django.http import HttpRequest, HttpResponseBase


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with this host's websocket origins in `connect-src`.

    CSP Level 3 makes 'self' match ws: and wss: of the page's own host, and current
    browsers follow it, but older ones (Safari before 15.4) match 'self' against the
    page's scheme only and would refuse the chat's websocket. The host is the one the
    request was made to, checked against ALLOWED_HOSTS.
    """

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if report_only:
            return parts
        host = request.get_host()
        update: dict[str, Any] = dict(parts.update or {})
        connect = list(update.get("connect-src", []))
        update["connect-src"] = [*connect, f"ws://{host}", f"wss://{host}"]
        parts.update = update
        return parts
