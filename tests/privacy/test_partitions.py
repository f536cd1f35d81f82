"""The log table's day partitions (PostgreSQL) and the retention purge over them; the
plain table's purge in batches (SQLite)."""

import csv
import io
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_q.models import Schedule

from postbacks import partitions
from postbacks.models import PostbackLog
from postbacks.tasks import PARTITIONS_TASK, make_log_partitions
from privacy import retention

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the log table is partitioned on PostgreSQL"
)
sqlite_only = pytest.mark.skipif(
    connection.vendor == "postgresql", reason="PostgreSQL drops whole days"
)


def log_at(created: datetime, **fields) -> PostbackLog:
    fields = {"status": "success", "postback_name": "pb", "postback_type": "click", **fields}
    url = f"https://pb.example/{created.isoformat()}"
    return PostbackLog.objects.create(created=created, url=url, **fields)


def where(log: PostbackLog) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT tableoid::regclass::text FROM {partitions.TABLE} WHERE id = %s", [log.pk]
        )
        return cursor.fetchone()[0]


def today():
    return timezone.now().astimezone(UTC).date()


def noon(day) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)


def names() -> set[str]:
    return {partition.name for partition in partitions.partitions()}


@postgres_only
def test_rows_land_in_their_days_partition_and_the_rest_in_the_default_one():
    yesterday = today() - timedelta(days=1)
    partitions.ensure_days([yesterday, today()])

    rows = {
        "today": log_at(timezone.now()),
        "yesterday": log_at(noon(yesterday)),
        "long ago": log_at(noon(today() - timedelta(days=400))),
    }

    assert {name: where(log) for name, log in rows.items()} == {
        "today": partitions.partition_for(today()).name,
        "yesterday": partitions.partition_for(yesterday).name,
        "long ago": partitions.DEFAULT,
    }
    ids = [log.pk for log in rows.values()]
    assert ids == sorted(set(ids))  # one sequence across the partitions
    assert PostbackLog.objects.get(pk=rows["yesterday"].pk).url == rows["yesterday"].url


@postgres_only
def test_the_schedule_makes_the_days_ahead_and_the_next_run_finds_nothing_to_do(settings):
    settings.LOG_PARTITION_DAYS_AHEAD = 12
    ahead = {partitions.partition_for(today() + timedelta(days=n)).name for n in range(13)}

    first = make_log_partitions()

    assert ahead <= names()
    assert first.startswith("created ")  # the migration made 7 days ahead, not 12
    assert partitions.partition_for(today() + timedelta(days=12)).name in first
    assert make_log_partitions() == "nothing to create"


@postgres_only
def test_a_day_whose_rows_went_to_the_default_partition_is_made_by_moving_them_in():
    day = today() - timedelta(days=30)
    landed = [log_at(noon(day) + timedelta(minutes=n)) for n in range(3)]
    other_day = log_at(noon(day - timedelta(days=1)))
    assert {where(log) for log in landed} == {partitions.DEFAULT}

    assert partitions.ensure_days([day]) == [partitions.partition_for(day).name]

    assert {where(log) for log in landed} == {partitions.partition_for(day).name}
    assert where(other_day) == partitions.DEFAULT
    assert PostbackLog.objects.count() == 4


@postgres_only
def test_the_purge_drops_only_the_days_that_have_wholly_expired(settings):
    settings.LOG_RETENTION_DAYS = 90
    cutoff_day = (timezone.now() - timedelta(days=90)).astimezone(UTC).date()
    days = {offset: cutoff_day + timedelta(days=offset) for offset in (-5, -1, 0, 1)}
    partitions.ensure_days(list(days.values()))
    logs = {offset: [log_at(noon(day)), log_at(noon(day))] for offset, day in days.items()}
    in_default = log_at(noon(cutoff_day - timedelta(days=200)))
    young = log_at(timezone.now())

    result = retention.purge()

    assert result.logs == 5  # two days of two rows, and the default partition's one
    assert result.finished
    kept = set(PostbackLog.objects.values_list("pk", flat=True))
    assert kept == {log.pk for offset in (0, 1) for log in logs[offset]} | {young.pk}
    assert not PostbackLog.objects.filter(pk=in_default.pk).exists()
    assert partitions.partition_for(days[-5]).name not in names()
    assert partitions.partition_for(days[-1]).name not in names()
    assert {partitions.partition_for(days[0]).name, partitions.partition_for(days[1]).name} <= (
        names()
    )
    assert retention.purge().logs == 0


def page_ids(client, query: str) -> list[int]:
    """Every row of a filtered list, page after page through the `before` cursor."""
    ids: list[int] = []
    url = f"/logs/?{query}"
    while url:
        page = client.get(url).content.decode()
        ids += [int(pk) for pk in re.findall(r'<tr data-id="(\d+)"', page)]
        older = re.search(r'id="older" href="([^"]+)"', page)
        url = "/logs/" + older.group(1).replace("&amp;", "&") if older else ""
    return ids


@postgres_only
def test_pages_filters_csv_and_detail_span_two_partitions_once_each(ops_client):
    yesterday = today() - timedelta(days=1)
    partitions.ensure_days([yesterday, today()])
    rows = [
        log_at(noon(yesterday) + timedelta(seconds=n), status="failed" if n % 2 else "success")
        for n in range(40)
    ] + [
        log_at(timezone.now() - timedelta(seconds=n), status="failed" if n % 2 else "success")
        for n in range(40)
    ]
    assert {where(rows[0]), where(rows[-1])} == {
        partitions.partition_for(yesterday).name,
        partitions.partition_for(today()).name,
    }
    failed = {log.pk for log in rows if log.status == "failed"}

    assert sorted(page_ids(ops_client, "")) == sorted(log.pk for log in rows)
    assert sorted(page_ids(ops_client, "status=Failed")) == sorted(failed)
    response = ops_client.get("/logs/export.csv?status=Failed")
    text = b"".join(response.streaming_content).decode()
    exported = list(csv.reader(io.StringIO(text, newline="")))[1:]
    assert len(exported) == len(failed) == 40
    assert len({row[9] for row in exported}) == 40  # each url once: every row once
    assert ops_client.get(f"/logs/{rows[0].pk}/").status_code == 200


@postgres_only
def test_the_migration_turns_the_table_back_and_forth_keeping_rows_and_ids():
    rows = [log_at(timezone.now()), log_at(noon(today() - timedelta(days=3)))]

    partitions.unpartition_table(connection)
    assert not partitions.is_partitioned()
    assert sorted(PostbackLog.objects.values_list("pk", flat=True)) == sorted(r.pk for r in rows)
    partitions.partition_table(connection, ahead=2)

    assert partitions.is_partitioned()
    with connection.cursor() as cursor:  # the names trigger of logs 0005 came along
        cursor.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
            [partitions.TABLE],
        )
        assert cursor.fetchone()[0] == 2
    assert where(rows[1]) == partitions.partition_for(today() - timedelta(days=3)).name
    newer = log_at(timezone.now())
    assert newer.pk > max(r.pk for r in rows)
    assert where(newer) == partitions.partition_for(today()).name


@sqlite_only
def test_on_sqlite_the_purge_deletes_exactly_the_expired_rows(settings, monkeypatch):
    settings.LOG_RETENTION_DAYS = 90
    monkeypatch.setattr(retention, "BATCH", 3)
    now = timezone.now()
    ages = [90.01, 90.5, 95, 200, 89.99, 10]
    logs = {age: log_at(now - timedelta(days=age)) for age in ages}

    deleted, done = retention.purge_logs(now - timedelta(days=90), time.monotonic() + 30)

    assert (deleted, done) == (4, True)
    kept = set(PostbackLog.objects.values_list("pk", flat=True))
    assert kept == {logs[89.99].pk, logs[10].pk}


def test_partition_functions_do_nothing_where_the_table_is_plain():
    if connection.vendor == "postgresql":
        pytest.skip("partitioned here")
    assert (partitions.partitions(), partitions.ensure_ahead()) == ([], [])
    assert partitions.drop_before(timezone.now()) == (0, [])
    assert make_log_partitions() == "nothing to create"


def test_the_partition_schedule_is_hourly():
    schedule = Schedule.objects.get(name="postbacks.log_partitions")
    assert (schedule.func, schedule.schedule_type) == (PARTITIONS_TASK, Schedule.HOURLY)


@postgres_only
def test_a_day_detached_by_a_run_that_died_is_dropped_by_the_next():
    day = today() - timedelta(days=200)
    partitions.ensure_days([day])
    name = partitions.partition_for(day).name
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {partitions.TABLE} DETACH PARTITION {name}")

    assert partitions.drop_before(noon(day - timedelta(days=10))) == (0, [])

    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [name])
        assert cursor.fetchone()[0] is None


@postgres_only
def test_the_first_page_is_the_highest_ids_even_when_an_older_day_holds_one(ops_client):
    recent = [log_at(timezone.now() - timedelta(minutes=n)) for n in range(60)]
    back_dated = log_at(timezone.now() - timedelta(days=30))  # highest id, an old day
    rare = [log_at(timezone.now() - timedelta(days=d), status="failed") for d in (2, 10, 40)]

    first_page = page_ids(ops_client, "")[:50]
    failed = page_ids(ops_client, "status=Failed")

    assert first_page == sorted([log.pk for log in recent + [back_dated] + rare], reverse=True)[:50]
    assert first_page[0] == rare[-1].pk and back_dated.pk in first_page
    assert failed == [log.pk for log in reversed(rare)]  # fewer than a page: every day asked
