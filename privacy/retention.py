"""Retention of personal data (SPEC §14): a scheduled purge in small batches.

- Log rows older than LOG_RETENTION_DAYS are deleted. On PostgreSQL, where the log
  table is partitioned by day (postbacks/partitions.py), by dropping the days that have
  wholly expired, then deleting in batches what the default partition holds; on SQLite in
  batches.
- Clicks older than CLICK_RETENTION_DAYS are deleted when no conversion came of them;
  those with conversions are kept for the attribution, without their personal data (IP,
  user agent, device and user identifiers).

Each batch is its own short transaction, with a pause between batches, and a run stops
after a time budget: the purge never holds the write lock long enough to hold up
delivery, and the next scheduled run goes on where it stopped.
"""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from offers.models import Click
from postbacks import partitions
from postbacks.macros import DEVICE_ID_FIELDS
from postbacks.models import PostbackLog

BATCH = 1000
PAUSE_SECONDS = 0.05
BUDGET_SECONDS = 60.0
PERSONAL_CLICK_FIELDS = {"ip": None, "user_agent": "", **dict.fromkeys(DEVICE_ID_FIELDS, "")}


@dataclass
class Purged:
    logs: int = 0
    clicks: int = 0
    clicks_anonymised: int = 0
    finished: bool = True  # False: the budget ran out; the next run goes on


def purge(now: datetime | None = None, budget: float = BUDGET_SECONDS) -> Purged:
    """What the schedule runs: logs, then clicks, within one time budget."""
    now = now or timezone.now()
    deadline = time.monotonic() + budget
    result = Purged()
    result.logs, logs_done = purge_logs(now - timedelta(days=settings.LOG_RETENTION_DAYS), deadline)
    clicks_before = now - timedelta(days=settings.CLICK_RETENTION_DAYS)
    result.clicks, result.clicks_anonymised, clicks_done = purge_clicks(clicks_before, deadline)
    result.finished = logs_done and clicks_done
    return result


def purge_logs(before: datetime, deadline: float) -> tuple[int, bool]:
    """Delete log rows created before `before`; (rows deleted, whether all are gone).

    With partitions a row goes with its whole UTC day: the cutoff is taken back to the
    start of its day, the days before it are dropped, and what the default partition
    holds from before then is deleted in batches.
    """
    if not partitions.is_partitioned():
        return _in_batches(PostbackLog.objects.filter(created__lt=before), deadline)
    before = partitions.start_of_day(before)
    dropped, _ = partitions.drop_before(before)
    deleted, done = _in_batches(PostbackLog.objects.filter(created__lt=before), deadline)
    return dropped + deleted, done


def purge_clicks(before: datetime, deadline: float) -> tuple[int, int, bool]:
    """(clicks deleted, clicks stripped of personal data, whether all are done)."""
    old = Click.objects.filter(created__lt=before)
    deleted, done = _in_batches(old.filter(conversions__isnull=True), deadline)
    if not done:
        return deleted, 0, False
    personal = old.exclude(ip__isnull=True, user_agent="", **dict.fromkeys(DEVICE_ID_FIELDS, ""))
    anonymised = 0
    while time.monotonic() < deadline:
        ids = list(personal.order_by("pk").values_list("pk", flat=True)[:BATCH])
        if not ids:
            return deleted, anonymised, True
        with transaction.atomic():
            anonymised += Click.objects.filter(pk__in=ids).update(**PERSONAL_CLICK_FIELDS)
        time.sleep(PAUSE_SECONDS)
    return deleted, anonymised, False


def _in_batches(rows, deadline: float) -> tuple[int, bool]:
    deleted = 0
    while time.monotonic() < deadline:
        ids = list(rows.order_by("pk").values_list("pk", flat=True)[:BATCH])
        if not ids:
            return deleted, True
        with transaction.atomic():
            deleted += (
                rows.model._default_manager.filter(pk__in=ids)
                .delete()[1]
                .get(rows.model._meta.label, 0)
            )
        time.sleep(PAUSE_SECONDS)
    return deleted, False
