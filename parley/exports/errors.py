"""The refusals of exports, with their stable codes (docs/export.md)."""

from __future__ import annotations

from parley.common.errors import DomainError, NotFound


class ExportNotFound(NotFound):
    code = "export_not_found"
    default_message = "No such export."


class ExportNotReady(DomainError):
    code = "export_not_ready"
    status = 409
    default_message = "This export is not ready to download."
