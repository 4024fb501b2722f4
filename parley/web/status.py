"""The admin's status page: every server process alive, as it last reported itself.

Staff only. What each process reports and how: parley/common/processes.py. The page reads
the cache and nothing else (no query, no call to another process), so it answers while
the database is down too, which is when it is wanted.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from parley.common import processes


def _when(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@staff_member_required
def status_page(request: HttpRequest) -> HttpResponse:
    now = time.time()
    alive = processes.processes()
    rows: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for process in alive:
        rows.append(
            {
                **process,
                "started_at": _when(process["started"]),
                "seen_ago": round(now - process["at"], 1),
            }
        )
        for error in process["errors"]:
            errors.append({**error, "process": process["id"], "when": _when(error["at"])})
    errors.sort(key=lambda e: e["at"], reverse=True)
    context = {
        **admin.site.each_context(request),
        "title": "Server processes",
        "processes": rows,
        "totals": {
            key: sum(int(p.get(key, 0)) for p in alive)
            for key in ("sockets_open", "online_here", "writer_leases", "hub_outbox_events")
        },
        # the hub's lag as time: the oldest event a process still has to hand to the layer
        "lag": max((float(p.get("hub_lag_seconds", 0)) for p in alive), default=0.0),
        "errors": errors[: processes.ERRORS_KEPT * 2],
        "heartbeat": processes.HEARTBEAT_SECONDS,
    }
    return TemplateResponse(request, "admin/parley_status.html", context)
