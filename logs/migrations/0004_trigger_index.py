"""PostgreSQL index for the /logs/ `trigger` filter (SPEC §11 "Log list"); nothing on SQLite.

`WHERE trigger IN (…) ORDER BY id DESC LIMIT 51` walks btree (trigger, id DESC) newest
first, like the other Is filters of 0002. Built CONCURRENTLY so a live, large table keeps
taking writes.
"""

from django.db import migrations

NAME = "pblog_trigger_id"
TABLE = "logs_postbacklog"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {NAME} ON {TABLE} (trigger, id DESC)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [("logs", "0003_postbacklog_moves_to_postbacks")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
