"""PostgreSQL: the distinct postback names of the log, kept by a trigger, for the
`postback_name` Contains filter (SPEC §7, §9); nothing on SQLite.

There are few names (one per config) behind millions of rows. The filter looks the
matching names up in this small table and reads the rows by `postback_name IN (…)` on
the btree of 0002. Before, it walked the names with a loose index scan of the log table,
which on a table partitioned by day costs one probe per partition and name. The trigram
index on postback_name is dropped with it: nothing reads it any more, and every attempt
logged paid for it.

One statement-level trigger per INSERT (and UPDATE) statement, on the partitioned parent:
a batch of results is one statement, so one lookup of its distinct names. Names are
taken in order so two batches that bring the same new names cannot deadlock. A name
whose last row was purged stays listed; it matches no row, so it costs nothing.
"""

from django.db import migrations

TABLE = "logs_postbackname"
TRIGRAM_INDEX = "pblog_postback_name_trgm"

FORWARDS = f"""
CREATE TABLE {TABLE} (name varchar(200) PRIMARY KEY);
INSERT INTO {TABLE} (name) SELECT DISTINCT postback_name FROM logs_postbacklog;
CREATE FUNCTION logs_note_postback_names() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {TABLE} (name)
    SELECT DISTINCT postback_name FROM new_rows ORDER BY 1
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER logs_postback_names_inserted AFTER INSERT ON logs_postbacklog
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION logs_note_postback_names();
CREATE TRIGGER logs_postback_names_updated AFTER UPDATE ON logs_postbacklog
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION logs_note_postback_names();
DROP INDEX IF EXISTS {TRIGRAM_INDEX};
"""

BACKWARDS = f"""
CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEX} ON logs_postbacklog
    USING gin (UPPER((postback_name)::text) gin_trgm_ops);
DROP TRIGGER IF EXISTS logs_postback_names_updated ON logs_postbacklog;
DROP TRIGGER IF EXISTS logs_postback_names_inserted ON logs_postbacklog;
DROP FUNCTION IF EXISTS logs_note_postback_names();
DROP TABLE IF EXISTS {TABLE};
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARDS)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARDS)


class Migration(migrations.Migration):
    dependencies = [
        ("logs", "0004_trigger_index"),
        ("postbacks", "0016_partition_logs"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
