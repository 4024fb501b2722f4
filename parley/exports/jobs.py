"""The job that builds an export (parley/jobs: retried, may run more than once)."""

from __future__ import annotations

from parley.exports import services
from parley.jobs.runner import job


@job(attempts=3, on_give_up=services.export_give_up)
def build_export(export_id: str) -> str:
    return services.export_build(export_id=export_id)
