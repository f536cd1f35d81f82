"""PostgreSQL indexes for the /logs/ filters (SPEC §7, §9); nothing on SQLite.

Every list query is `WHERE <filters> ORDER BY id DESC LIMIT 51`:
- Is: btree (column, id DESC) walks one value newest first and stops after 51 rows.
- Contains: Django's icontains compiles to UPPER(col::text) LIKE UPPER('%v%'), so the
  trigram indexes are on that exact expression (a plain trigram index on col is unused).
  Numeric columns get the same on their ::text cast.
- Time range: btree on created.
Is not keeps most rows, so the primary key walked backwards serves it.

Indexes are built CONCURRENTLY so a migration on a live, large table does not lock writes.
"""

from django.db import migrations

BTREE_COLUMNS = [
    "status",
    "postback_type",
    "offer_id",
    "publisher_id",
    "event_id",
    "response_code",
    "transaction_id",
    "postback_name",
]
TRIGRAM_TEXT_COLUMNS = ["url", "error", "server_response", "transaction_id", "postback_name"]
TRIGRAM_NUMBER_COLUMNS = ["offer_id", "publisher_id", "event_id", "response_code"]
TABLE = "logs_postbacklog"


def index_statements() -> list[tuple[str, str]]:
    """(index name, CREATE INDEX statement) pairs."""
    statements = []
    for column in BTREE_COLUMNS:
        name = f"pblog_{column}_id"
        statements.append(
            (name, f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {TABLE} ({column}, id DESC)")
        )
    statements.append(
        (
            "pblog_created",
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS pblog_created ON {TABLE} (created)",
        )
    )
    for column in TRIGRAM_TEXT_COLUMNS + TRIGRAM_NUMBER_COLUMNS:
        name = f"pblog_{column}_trgm"
        statements.append(
            (
                name,
                f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {TABLE} "
                f"USING gin (UPPER(({column})::text) gin_trgm_ops)",
            )
        )
    return statements


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for _, statement in index_statements():
            cursor.execute(statement)


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name, _ in index_statements():
            cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [("logs", "0001_initial")]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
