"""Two-sided reconciliation (SPEC §13): a publisher's own report against our conversions.

The uploaded CSV is read whole (at most MAX_UPLOAD_BYTES), checked line by line, and
matched by transaction ID (and event, when the report has an event column) against the
publisher's conversions of the period, rejected ones left out. The answer is three lists:
in both; ours only, each with why the publisher may not have it; theirs only (unknown to
us). A file that cannot be read is refused with the problem and its line; nothing is kept.
"""

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from django.utils.dateparse import parse_datetime

from offers.models import Conversion, ConversionStatus, Publisher
from postbacks.models import Delivery, DeliveryState, LogStatus, PostbackConfig, PostbackLog
from reports.reconciliation import SENT_TYPES, Period

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_FIELD_CHARS = 10_000
CHUNK = 2000  # ids per IN (…) query
REASONS = ("no_config", "config_disabled", "failed", "pending", "skipped", "delivered")


class UploadError(ValueError):
    """The file cannot be matched; the message names the problem (and the line)."""


@dataclass(frozen=True)
class Columns:
    transaction_id: str
    event: str = ""
    time: str = ""


@dataclass(frozen=True)
class TheirRow:
    line: int
    transaction_id: str
    event: str


@dataclass
class Match:
    both: int = 0
    in_both: list[dict] = field(default_factory=list)  # our conversions that they list
    ours_only: list[dict] = field(default_factory=list)
    theirs_only: list[dict] = field(default_factory=list)
    outside_period: int = 0  # their rows whose time column falls outside the period

    def as_dict(self) -> dict:
        return {"both": self.both, "ours_only": self.ours_only, "theirs_only": self.theirs_only}


def read_report(content: bytes, columns: Columns, period: Period) -> tuple[list[TheirRow], int]:
    """Their rows (and how many fell outside the period by the time column)."""
    if len(content) > MAX_UPLOAD_BYTES:
        raise UploadError(f"The file is over {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
    text = _decoded(content)
    csv.field_size_limit(MAX_FIELD_CHARS)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise UploadError("The file is empty: it needs a header row.") from None
    except csv.Error as error:
        raise UploadError(f"Line 1: {error}.") from None
    positions = _positions([name.strip() for name in header], columns)
    rows, outside = [], 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            raise UploadError(f"Line {reader.line_num}: {error}.") from None
        line = reader.line_num
        if not any(value.strip() for value in fields):
            continue  # a blank line
        if len(fields) > len(header):
            raise UploadError(
                f"Line {line} has {len(fields)} fields; the header has {len(header)}."
            )
        values = {
            name: fields[at].strip() if at < len(fields) else "" for name, at in positions.items()
        }
        if not values["transaction_id"]:
            raise UploadError(
                f"Line {line} has no transaction ID (column {columns.transaction_id!r})."
            )
        if columns.time and not _in_period(values["time"], period, line, columns.time):
            outside += 1
            continue
        rows.append(TheirRow(line, values["transaction_id"], values.get("event", "")))
    return rows, outside


def _decoded(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise UploadError(
            f"Line {line} is not UTF-8 text (byte {content[error.start]:#04x}): save the "
            "report as CSV UTF-8 and upload it again."
        ) from None


def _positions(header: list[str], columns: Columns) -> dict[str, int]:
    lowered = [name.lower() for name in header]
    positions = {}
    for role, name in (
        ("transaction_id", columns.transaction_id),
        ("event", columns.event),
        ("time", columns.time),
    ):
        if not name:
            continue
        if name.strip().lower() not in lowered:
            shown = ", ".join(repr(column) for column in header[:30])
            raise UploadError(f"No column {name!r} in the header row; it has {shown}.")
        positions[role] = lowered.index(name.strip().lower())
    return positions


def _in_period(text: str, period: Period, line: int, column: str) -> bool:
    moment = _moment(text)
    if moment is None:
        raise UploadError(
            f"Line {line}: {text!r} in column {column!r} is not a time "
            "(use ISO 8601, e.g. 2026-11-30 14:05:00 or 2026-11-30)."
        )
    return period.start <= moment < period.end


def _moment(text: str) -> datetime | None:
    try:
        moment = parse_datetime(text.replace("/", "-"))
    except ValueError:
        moment = None
    if moment is None:
        try:
            moment = datetime.combine(date.fromisoformat(text), time.min)
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def match(
    content: bytes,
    publisher: Publisher,
    period: Period,
    columns: Columns,
    advertiser=None,
) -> Match:
    theirs, outside = read_report(content, columns, period)
    ours = _our_conversions(publisher, period, advertiser)
    by_event = bool(columns.event)
    names = _their_event_names(publisher) if by_event else {}
    our_keys: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for conversion in ours:
        if not by_event and conversion["event"]:
            continue  # a report without events lists the base conversions
        event = names.get(conversion["event"], conversion["event"]) if by_event else ""
        our_keys[(conversion["transaction_id"], event.lower())].append(conversion)
    result = Match(outside_period=outside)
    seen: set[tuple[str, str]] = set()
    for row in theirs:
        key = (row.transaction_id, row.event.lower() if by_event else "")
        if key in our_keys:
            if key not in seen:
                result.both += len(our_keys[key])
                result.in_both += [_listed(conversion) for conversion in our_keys[key]]
                seen.add(key)
        else:
            result.theirs_only.append({"line": row.line, "transaction_id": row.transaction_id})
    missing = [
        conversion for key, found in our_keys.items() if key not in seen for conversion in found
    ]
    result.ours_only = _with_reasons(missing, publisher)
    return result


def _listed(conversion: dict) -> dict:
    return {
        "transaction_id": conversion["transaction_id"],
        "event": conversion["event"],
        "conversion_id": conversion["conversion_id"],
    }


def _our_conversions(publisher: Publisher, period: Period, advertiser) -> list[dict]:
    conversions = Conversion.objects.filter(
        publisher=publisher, created__gte=period.start, created__lt=period.end
    ).exclude(status=ConversionStatus.REJECTED)
    if advertiser is not None:
        conversions = conversions.filter(offer__advertiser=advertiser)
    rows = conversions.values_list("pk", "transaction_id", "event__name", "offer_id", "event_id")
    return [
        {
            "conversion_id": pk,
            "transaction_id": tid,
            "event": name or "",
            "offer_id": offer,
            "event_id": event,
        }
        for pk, tid, name, offer, event in rows.iterator(chunk_size=5000)
    ]


def _their_event_names(publisher: Publisher) -> dict[str, str]:
    """Our event names to the publisher's, from its configs' event maps."""
    names: dict[str, str] = {}
    for mapping in PostbackConfig.objects.filter(publisher=publisher).values_list(
        "event_names", flat=True
    ):
        names.update(mapping or {})
    return names


def _chunks(values: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _with_reasons(missing: list[dict], publisher: Publisher) -> list[dict]:
    """Each conversion the publisher does not list, with why it may not have it."""
    deliveries: dict[int, list[dict]] = defaultdict(list)
    for ids in _chunks([conversion["conversion_id"] for conversion in missing]):
        for row in Delivery.objects.filter(
            conversion_id__in=ids, postback_type__in=SENT_TYPES
        ).values(
            "pk",
            "conversion_id",
            "state",
            "last_response_code",
            "last_error",
            "next_attempt_at",
            "config__enabled",
        ):
            deliveries[row["conversion_id"]].append(row)
    delivered_ids = [
        row["pk"]
        for rows in deliveries.values()
        for row in rows
        if row["state"] == DeliveryState.SUCCEEDED
    ]
    delivered_at = _success_times(delivered_ids)
    disabled = _disabled_configs(publisher)
    answers = []
    for conversion in sorted(missing, key=lambda row: row["conversion_id"]):
        reason, detail = _reason(
            deliveries.get(conversion["conversion_id"], []), delivered_at, conversion, disabled
        )
        answers.append(
            {
                "transaction_id": conversion["transaction_id"],
                "event": conversion["event"],
                "conversion_id": conversion["conversion_id"],
                "reason": reason,
                "detail": detail,
            }
        )
    return answers


def _success_times(delivery_ids: list[int]) -> dict[int, tuple[datetime, int]]:
    times: dict[int, tuple[datetime, int]] = {}
    for ids in _chunks(delivery_ids):
        rows = PostbackLog.objects.filter(
            delivery_id__in=ids, status=LogStatus.SUCCESS
        ).values_list("delivery_id", "created", "response_code")
        for delivery_id, created, code in rows:
            if delivery_id not in times or created > times[delivery_id][0]:
                times[delivery_id] = (created, code)
    return times


def _disabled_configs(publisher: Publisher) -> list[dict]:
    return list(
        PostbackConfig.objects.filter(
            publisher=publisher, enabled=False, postback_type__in=SENT_TYPES
        ).values("name", "offer_id", "event_id", "postback_type")
    )


def _reason(
    rows: list[dict], delivered_at: dict, conversion: dict, disabled: list[dict]
) -> tuple[str, str]:
    by_state = {row["state"]: row for row in rows}
    if DeliveryState.SUCCEEDED in by_state:
        row = by_state[DeliveryState.SUCCEEDED]
        moment, code = delivered_at.get(row["pk"], (None, row["last_response_code"]))
        when = f" at {moment:%Y-%m-%d %H:%M:%S} UTC" if moment else ""
        return "delivered", f"Delivered: {code}{when}; the publisher lost it."
    if DeliveryState.PENDING in by_state:
        row = by_state[DeliveryState.PENDING]
        last = f" after {row['last_error']}" if row["last_error"] else ""
        return (
            "pending",
            f"Pending{last}; next attempt {row['next_attempt_at']:%Y-%m-%d %H:%M} UTC.",
        )
    if DeliveryState.FAILED in by_state:
        row = by_state[DeliveryState.FAILED]
        return "failed", f"Failed: {row['last_response_code']} {row['last_error']}".strip()
    if DeliveryState.SKIPPED in by_state:
        return "skipped", f"Skipped: {by_state[DeliveryState.SKIPPED]['last_error']}"
    if DeliveryState.CANCELLED in by_state:
        return "config_disabled", by_state[DeliveryState.CANCELLED]["last_error"] or "Cancelled."
    matching = [config for config in disabled if _applies(config, conversion)]
    if matching:
        return "config_disabled", f"Its postback config {matching[0]['name']!r} is disabled."
    return "no_config", "No postback config matched: nothing was sent."


def _applies(config: dict, conversion: dict) -> bool:
    if config["offer_id"] not in (None, conversion["offer_id"]):
        return False
    if conversion["event_id"] is None:
        return config["postback_type"] == "conversion"
    return config["postback_type"] == "event" and config["event_id"] in (
        None,
        conversion["event_id"],
    )
