"""Erasure (SPEC §14): a person's device identifiers and user IDs taken out of every
click, conversion (install) and log row of their postbacks, with an audit record that
holds the counts, never the values.

- Clicks with a matching identifier lose every identifier, their IP and user agent.
- Conversions of those clicks, and installs whose attributes hold a matching identifier,
  lose the identifiers in their attributes.
- The log rows of those clicks' and conversions' postbacks have each value (as sent, and
  percent-encoded) replaced by ERASED in the URL, the request body and headers, and the
  response.
An advertiser's request reaches its own offers' data only. Large matches run in the
worker, in batches (ERASE_INLINE_LIMIT); the counts are known before.
"""

import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from offers.models import Advertiser, Click, Conversion
from postbacks.macros import DEVICE_ID_FIELDS
from postbacks.models import PostbackLog
from privacy.models import ErasureRecord

ERASED = "[erased]"
DEVICE_FIELDS = tuple(name for name in DEVICE_ID_FIELDS if name != "user_id")
ERASE_INLINE_LIMIT = 5000  # log rows; more are erased in the worker
BATCH = 500
MAX_VALUES = 1000


def spellings(values: list[str]) -> list[str]:
    """Each value as given, lower- and upper-case: device IDs (UUIDs) come in any case."""
    return sorted({form for value in values for form in (value, value.lower(), value.upper())})


def matching_clicks(device_ids: list[str], user_ids: list[str], advertiser: Advertiser | None):
    condition = Q(pk__in=[])
    if device_ids:
        for name in DEVICE_FIELDS:
            condition |= Q(**{f"{name}__in": device_ids})
    if user_ids:
        condition |= Q(user_id__in=user_ids)
    clicks = Click.objects.filter(condition)
    return clicks.filter(offer__advertiser=advertiser) if advertiser is not None else clicks


def matching_conversions(clicks, device_ids, user_ids, advertiser: Advertiser | None):
    condition = Q(click__in=clicks)
    for name in DEVICE_FIELDS:
        for value in device_ids:
            condition |= Q(**{f"attributes__{name}": value})
    for value in user_ids:
        condition |= Q(attributes__user_id=value)
    conversions = Conversion.objects.filter(condition)
    if advertiser is not None:
        conversions = conversions.filter(offer__advertiser=advertiser)
    return conversions


def plan(device_ids: list[str], user_ids: list[str], advertiser: Advertiser | None) -> dict:
    """What an erasure would touch: the id lists, counted before anything changes."""
    clicks = list(matching_clicks(device_ids, user_ids, advertiser).values_list("pk", flat=True))
    conversions = list(
        matching_conversions(clicks, device_ids, user_ids, advertiser).values_list("pk", flat=True)
    )
    logs = list(
        PostbackLog.objects.filter(
            Q(click_id__in=clicks) | Q(conversion_id__in=conversions)
        ).values_list("pk", flat=True)
    )
    return {"clicks": clicks, "conversions": conversions, "logs": logs}


def start(
    device_ids: list[str], user_ids: list[str], advertiser: Advertiser | None, requested_by: str
) -> tuple[ErasureRecord, bool]:
    """Record the request and erase; (record, whether it was left to the worker)."""
    given = len(device_ids), len(user_ids)
    device_ids, user_ids = spellings(device_ids), spellings(user_ids)
    ids = plan(device_ids, user_ids, advertiser)
    record = ErasureRecord.objects.create(
        requested_by=requested_by[:200],
        advertiser=advertiser,
        device_ids=given[0],
        user_ids=given[1],
        clicks=len(ids["clicks"]),
        conversions=len(ids["conversions"]),
        logs=len(ids["logs"]),
    )
    values = [*device_ids, *user_ids]
    if len(ids["logs"]) > ERASE_INLINE_LIMIT:
        from django_q.tasks import async_task

        # The values go to the worker in the task's arguments, not to the audit record.
        async_task("privacy.erasure.erase", record.pk, ids, values)
        return record, True
    erase(record.pk, ids, values)
    return record, False


def erase(record_id: int, ids: dict, values: list[str]) -> None:
    """Take the values out of the planned rows, in batches; then close the record."""
    for chunk in _chunks(ids["clicks"]):
        blank = {name: "" for name in DEVICE_ID_FIELDS}
        Click.objects.filter(pk__in=chunk).update(ip=None, user_agent="", **blank)
    for chunk in _chunks(ids["conversions"]):
        with transaction.atomic():
            for conversion in Conversion.objects.select_for_update().filter(pk__in=chunk):
                attributes = dict(conversion.attributes or {})
                for name in DEVICE_ID_FIELDS:
                    attributes.pop(name, None)
                if attributes != conversion.attributes:
                    conversion.attributes = attributes
                    conversion.save(update_fields=["attributes", "updated"])
    for chunk in _chunks(ids["logs"]):
        with transaction.atomic():
            for log in (
                PostbackLog.objects.select_for_update()
                .filter(pk__in=chunk)
                .only("url", "request_body", "server_response", "request_headers")
            ):
                changed: dict[str, object] = {
                    name: _without(getattr(log, name), values)
                    for name in ("url", "request_body", "server_response")
                }
                changed["request_headers"] = {
                    name: _without(str(value), values)
                    for name, value in (log.request_headers or {}).items()
                }
                PostbackLog.objects.filter(pk=log.pk).update(**changed)
    ErasureRecord.objects.filter(pk=record_id).update(finished=timezone.now())


def _without(text: str, values: Iterable[str]) -> str:
    for value in sorted(set(values), key=len, reverse=True):
        if not value:
            continue
        for form in {value, quote(value, safe=""), quote_plus(value)}:
            text = re.sub(re.escape(form), ERASED, text, flags=re.IGNORECASE)
    return text


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]
