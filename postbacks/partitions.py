"""The log table's time partitions on PostgreSQL (SPEC §14 Retention).

On PostgreSQL `logs_postbacklog` is partitioned by range of `created`, one partition per
UTC day (`logs_postbacklog_p20261204`), plus a DEFAULT partition that takes any row no
day partition covers, so an insert never fails because the schedule fell behind. The
primary key is (id, created) there, as PostgreSQL requires of a partitioned table; ids
still come from one sequence, so `id` alone stays unique and the ORM keeps it as the pk.

- `ensure_ahead` creates today's partition and the next LOG_PARTITION_DAYS_AHEAD days'
  (the migration and an hourly schedule call it). A day whose rows already landed in the
  default partition is created by moving them, so catching up is always possible.
- `drop_before` drops every day partition that ends at or before a cutoff: retention in
  milliseconds whatever the row count. A day is dropped once all of it has expired, so a
  row outlives LOG_RETENTION_DAYS by less than one day.

On SQLite every function here does nothing: the table is a plain table, purged in batches.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

TABLE = "logs_postbacklog"
DEFAULT = f"{TABLE}_default"
NAME = re.compile(rf"^{TABLE}_p(\d{{8}})$")
LOCK_TIMEOUT = "5s"  # a drop or attach waits at most this long behind a long query


@dataclass(frozen=True)
class Partition:
    name: str
    day: date

    @property
    def start(self) -> datetime:
        return midnight(self.day)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=1)


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def start_of_day(moment: datetime) -> datetime:
    """The UTC midnight at or before `moment`: where a day partition starts."""
    return midnight(moment.astimezone(UTC).date())


def partition_for(day: date) -> Partition:
    return Partition(f"{TABLE}_p{day:%Y%m%d}", day)


def is_partitioned(conn: BaseDatabaseWrapper = connection) -> bool:
    if conn.vendor != "postgresql":
        return False
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_partitioned_table WHERE partrelid = %s::regclass", [TABLE])
        return cursor.fetchone() is not None


def partitions(conn: BaseDatabaseWrapper = connection) -> list[Partition]:
    """The day partitions, oldest first (the default partition is not among them); none
    for a plain table."""
    if conn.vendor != "postgresql":
        return []
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass",
            [TABLE],
        )
        names = [row[0] for row in cursor.fetchall()]
    days = [NAME.match(name) for name in names]
    found = [
        Partition(match.group(0), date.fromisoformat(match.group(1))) for match in days if match
    ]
    return sorted(found, key=lambda partition: partition.day)


def ensure_ahead(
    today: date | None = None, days: int | None = None, conn: BaseDatabaseWrapper = connection
) -> list[str]:
    """Create the partitions of today and the days ahead that are missing; their names."""
    if not is_partitioned(conn):
        return []
    today = today or timezone.now().astimezone(UTC).date()
    days = settings.LOG_PARTITION_DAYS_AHEAD if days is None else days
    return ensure_days([today + timedelta(days=n) for n in range(days + 1)], conn)


def ensure_days(days: list[date], conn: BaseDatabaseWrapper = connection) -> list[str]:
    existing = {partition.day for partition in partitions(conn)}
    created = []
    for day in sorted(set(days) - existing):
        partition = partition_for(day)
        create_partition(partition, conn)
        created.append(partition.name)
    return created


def create_partition(partition: Partition, conn: BaseDatabaseWrapper = connection) -> None:
    """Create one day's partition, moving in any of its rows the default partition holds.

    Attaching a table (rather than CREATE TABLE … PARTITION OF) is what allows the move:
    PostgreSQL refuses a new partition whose rows still sit in the default partition.
    """
    bounds = [partition.start, partition.end]
    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        cursor.execute(
            f"CREATE TABLE {partition.name} "
            f"(LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)"
        )
        cursor.execute(
            f"WITH moved AS (DELETE FROM {DEFAULT} WHERE created >= %s AND created < %s "  # noqa: S608
            f"RETURNING *) INSERT INTO {partition.name} SELECT * FROM moved",
            bounds,
        )
        cursor.execute(
            f"ALTER TABLE {TABLE} ATTACH PARTITION {partition.name} FOR VALUES FROM (%s) TO (%s)",
            bounds,
        )


def drop_before(cutoff: datetime, conn: BaseDatabaseWrapper = connection) -> tuple[int, list[str]]:
    """Drop the day partitions that end at or before `cutoff`; (rows dropped, names).

    Detaching takes the parent's exclusive lock, so all expired days are detached in one
    short transaction (inserts wait once, for milliseconds); the tables are dropped after
    it, when removing their files holds up nobody.
    """
    if conn.vendor != "postgresql":
        return 0, []
    expired = [partition.name for partition in partitions(conn) if partition.end <= cutoff]
    rows = 0
    if expired:
        with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            # Deferred foreign-key checks of rows written earlier in this transaction (a
            # test's, a caller's) must fire before their table may go.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            rows = sum(_row_count(cursor, name) for name in expired)
            cursor.execute(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
            for name in expired:
                cursor.execute(f"ALTER TABLE {TABLE} DETACH PARTITION {name}")
    with conn.cursor() as cursor:
        # Detached days: these, and any a run that died after detaching left behind.
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relname ~ %s AND relkind = 'r' "
            "AND NOT relispartition",
            [NAME.pattern],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f"DROP TABLE {name}")
    return rows, expired


def _row_count(cursor, name: str) -> int:
    """The planner's count once ANALYZE has run (a dropped day needs no exact count, and
    counting millions of rows would cost more than the drop); an exact count before."""
    cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [name])
    estimate = cursor.fetchone()[0]
    if estimate >= 0:
        return estimate
    cursor.execute(f"SELECT count(*) FROM {name}")  # noqa: S608 (a partition's name)
    return cursor.fetchone()[0]


# The migration (postbacks 0016) and its reverse.


def partition_table(conn: BaseDatabaseWrapper, ahead: int) -> None:
    """Turn the plain log table into the partitioned one, keeping rows, ids, indexes and
    foreign keys. One transaction: on a large table, run it in a quiet hour."""
    _rebuild(conn, partitioned=True)
    with conn.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT (created AT TIME ZONE 'UTC')::date FROM {DEFAULT}")  # noqa: S608
        days_with_rows = [row[0] for row in cursor.fetchall()]
    today = timezone.now().astimezone(UTC).date()
    ensure_days(days_with_rows + [today + timedelta(days=n) for n in range(ahead + 1)], conn)


def unpartition_table(conn: BaseDatabaseWrapper) -> None:
    _rebuild(conn, partitioned=False)


def _rebuild(conn: BaseDatabaseWrapper, partitioned: bool) -> None:
    old = f"{TABLE}_old"
    with conn.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        indexes = _index_definitions(cursor)
        foreign_keys = _foreign_keys(cursor)
        triggers = _trigger_definitions(cursor)
        cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {old}")
        partition_by = " PARTITION BY RANGE (created)" if partitioned else ""
        cursor.execute(
            f"CREATE TABLE {TABLE} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
            f"INCLUDING IDENTITY INCLUDING STORAGE){partition_by}"
        )
        if partitioned:
            cursor.execute(f"CREATE TABLE {DEFAULT} PARTITION OF {TABLE} DEFAULT")
        cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM {old}")  # noqa: S608
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{TABLE}', 'id'), "  # noqa: S608
            f"COALESCE((SELECT max(id) FROM {TABLE}), 0) + 1, false)"
        )
        cursor.execute(f"DROP TABLE {old}")
        sequence = _sequence(cursor)
        if sequence.rpartition(".")[2] != f"{TABLE}_id_seq":
            cursor.execute(f"ALTER SEQUENCE {sequence} RENAME TO {TABLE}_id_seq")
        # Keys and indexes after the copy (their names are free once the old table is
        # gone, and building them once is quicker than keeping them up row by row).
        key = "(id, created)" if partitioned else "(id)"
        cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY {key}")
        for definition in indexes:
            cursor.execute(definition)
        for name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} {definition}")
        for definition in triggers:
            cursor.execute(definition)


def _index_definitions(cursor) -> list[str]:
    """CREATE INDEX statements of the table's indexes but the primary key's (Django's
    foreign-key indexes and the /logs/ filter indexes of logs 0002 and 0004)."""
    cursor.execute(
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary",
        [TABLE],
    )
    return [row[0].replace(" ON ONLY ", " ON ") for row in cursor.fetchall()]


def _foreign_keys(cursor) -> list[tuple[str, str]]:
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'f'",
        [TABLE],
    )
    return list(cursor.fetchall())


def _trigger_definitions(cursor) -> list[str]:
    """CREATE TRIGGER statements of the table's own triggers (logs 0005's names)."""
    cursor.execute(
        "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = %s::regclass "
        "AND NOT tgisinternal",
        [TABLE],
    )
    return [row[0] for row in cursor.fetchall()]


def _sequence(cursor) -> str:
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [TABLE])
    return cursor.fetchone()[0]
