"""A server process refuses to start while the database lacks migrations of its code.

Code that runs on a schema it does not know fails request by request: a new column that
is not there yet answers 500 to every send that writes it, and only after the process
took traffic. So uvicorn's lifespan startup (parley/asgi.py) asks first, and a process
with unapplied migrations exits at once with the list, before it listens
(docs/deployment.md, "Upgrading").

Only the migrations of this code that the database has not applied count. A database
ahead of the code (migrated for the next version while an older process restarts during
a rolling upgrade) is fine: migrations work with the code one version back. A database
that does not answer is no reason to refuse either: the process starts, and `/readyz`
reports it unready until the database is back. PARLEY_SKIP_MIGRATION_CHECK=true skips
the check (a process that must start during a long migration, for instance).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

logger = logging.getLogger("parley.startup")

# At most this many migrations are named in the refusal; the rest are counted.
NAMED = 10


def unapplied_migrations(alias: str = DEFAULT_DB_ALIAS) -> list[str]:
    """The migrations of this code the database has not applied, as "app.name", in the
    order `migrate` would apply them (the check Django's runserver prints a warning for)."""
    connection = connections[alias]
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    finally:
        connection.close()  # opened on the startup thread, which serves nothing afterwards
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def startup_refusal() -> str | None:
    """Why this process must not serve, or None."""
    if settings.PARLEY["SKIP_MIGRATION_CHECK"]:
        return None
    try:
        unapplied = unapplied_migrations()
    except Exception as exc:
        logger.warning(
            "could not check the database for unapplied migrations (%s: %s); starting "
            "anyway, /readyz reports whether the database answers",
            type(exc).__name__,
            exc,
        )
        return None
    if not unapplied:
        return None
    named = ", ".join(unapplied[:NAMED])
    more = f" and {len(unapplied) - NAMED} more" if len(unapplied) > NAMED else ""
    return (
        f"Parley refuses to start: the database lacks {len(unapplied)} migration(s) of this "
        f"version ({named}{more}). Run `manage.py migrate` first (docs/deployment.md, "
        '"Upgrading"), or set PARLEY_SKIP_MIGRATION_CHECK=true to start anyway.'
    )
