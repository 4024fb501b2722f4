"""The job that builds an export (parley/jobs: retried, may run more than once)."""

from __future__ import annotations

from parley.exports import build
from parley.jobs.runner import job


@job(attempts=3, on_give_up=build.export_give_up)
def build_export(export_id: str) -> str:
    return build.export_build(export_id=export_id)
