"""Full-text search over message bodies (docs/search.md, "Engines").

PostgreSQL: a stored generated column `search_vector` (to_tsvector of the body in the
language PARLEY["SEARCH_LANGUAGE"] names when this migration runs) and a GIN index on it,
built CONCURRENTLY so that sends go on while it is built. The column is not a field of the
model: the send path's INSERT names its columns, so the code of the previous version writes
messages into the new schema unchanged, and PostgreSQL computes the vector itself.

Adding a stored generated column rewrites the table once, under a lock that stops sends for
as long as that takes (PostgreSQL has no way to add one without computing it for every
row); docs/search.md says how long, and how to do it in steps on a large instance.

SQLite: an FTS5 table over the body (external content: it stores only the index), kept
in sync by triggers. Each engine's part runs only on that engine.
"""

from django.conf import settings
from django.db import migrations

FTS_TOKENIZER = "porter unicode61 remove_diacritics 2"


def _language() -> str:
    language = settings.PARLEY.get("SEARCH_LANGUAGE", "english")
    if not language.replace("_", "").isalnum():
        raise ValueError(f"PARLEY['SEARCH_LANGUAGE'] is a text search configuration, not {language!r}")
    return language


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE chat_message ADD COLUMN IF NOT EXISTS search_vector tsvector "
            f"GENERATED ALWAYS AS (to_tsvector('{_language()}'::regconfig, body)) STORED"
        )
        # CONCURRENTLY cannot run in a transaction: this migration is not atomic.
        schema_editor.execute(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS chat_message_search_vector "
            "ON chat_message USING gin (search_vector)"
        )
    elif vendor == "sqlite":
        for statement in (
            "CREATE VIRTUAL TABLE chat_message_fts USING fts5(body, content='chat_message', "
            f"content_rowid='id', tokenize='{FTS_TOKENIZER}')",
            "CREATE TRIGGER chat_message_fts_insert AFTER INSERT ON chat_message BEGIN "
            "INSERT INTO chat_message_fts(rowid, body) VALUES (new.id, new.body); END",
            "CREATE TRIGGER chat_message_fts_delete AFTER DELETE ON chat_message BEGIN "
            "INSERT INTO chat_message_fts(chat_message_fts, rowid, body) "
            "VALUES ('delete', old.id, old.body); END",
            "CREATE TRIGGER chat_message_fts_update AFTER UPDATE OF body ON chat_message BEGIN "
            "INSERT INTO chat_message_fts(chat_message_fts, rowid, body) "
            "VALUES ('delete', old.id, old.body); "
            "INSERT INTO chat_message_fts(rowid, body) VALUES (new.id, new.body); END",
            "INSERT INTO chat_message_fts(chat_message_fts) VALUES ('rebuild')",
        ):
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS chat_message_search_vector")
        schema_editor.execute("ALTER TABLE chat_message DROP COLUMN IF EXISTS search_vector")
    elif vendor == "sqlite":
        for name in ("insert", "delete", "update"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS chat_message_fts_{name}")
        schema_editor.execute("DROP TABLE IF EXISTS chat_message_fts")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("chat", "0005_bot_participant")]

    operations = [migrations.RunPython(forwards, backwards, atomic=False)]
