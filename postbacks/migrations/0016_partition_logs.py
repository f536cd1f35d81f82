"""PostgreSQL: the log table becomes partitioned by day of `created` (SPEC §14
Retention; postbacks/partitions.py). Rows, ids, indexes and foreign keys are kept.
Nothing on SQLite.

The rewrite runs in the migration's transaction; on a large table, migrate in a quiet
hour (docs/scaling.md, "Retention").
"""

from django.conf import settings
from django.db import migrations

from postbacks import partitions


def partition(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        partitions.partition_table(schema_editor.connection, settings.LOG_PARTITION_DAYS_AHEAD)


def unpartition(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        partitions.unpartition_table(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("postbacks", "0015_dispatcher_cluster"),
        ("logs", "0004_trigger_index"),
    ]

    operations = [migrations.RunPython(partition, unpartition, elidable=False)]
