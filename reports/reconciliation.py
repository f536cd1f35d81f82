"""The reconciliation report (SPEC §13): per publisher and day, what was attributed and
what became of its postbacks, for comparing with a publisher's own report.

Days are UTC days of the conversion's time. A conversion's postbacks are its Conversion
and Event deliveries (Rejection postbacks are about taking one back, and are left out):
- first_attempt / after_retries: deliveries that succeeded on their first attempt / later;
- failed, pending, skipped (a partner rule held it back), cancelled (its config was
  disabled before it fired);
- no_config: conversions (not rejected) with no delivery at all: no config matched.
Two grouped queries, one over conversions and one over their deliveries; never the log.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.http import QueryDict
from django.utils import timezone

from offers.models import Advertiser, Conversion, ConversionStatus, Publisher
from postbacks.models import Delivery, DeliveryState, PostbackType

MAX_DAYS = 366
# The report's columns, in order: (name, label). The first three say which row it is.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("day", "Day"),
    ("publisher_id", "Publisher ID"),
    ("publisher", "Publisher"),
    ("conversions", "Conversions"),
    ("events", "Events"),
    ("rejected", "Rejected"),
    ("revenue", "Revenue"),
    ("payout", "Payout"),
    ("first_attempt", "Delivered first time"),
    ("after_retries", "Delivered after retries"),
    ("failed", "Failed"),
    ("pending", "Pending"),
    ("skipped", "Skipped"),
    ("cancelled", "Cancelled"),
    ("no_config", "No config"),
)
COUNTS = [name for name, _ in COLUMNS[3:] if name not in ("revenue", "payout")]
SENT_TYPES = (PostbackType.CONVERSION, PostbackType.EVENT)


@dataclass(frozen=True)
class Period:
    """From the start of date_from to the end of date_to (UTC, both included)."""

    date_from: date
    date_to: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.date_from, time.min, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.date_to + timedelta(days=1), time.min, tzinfo=UTC)


def period_errors(date_from: str, date_to: str) -> tuple[Period | None, dict[str, str]]:
    """The period of two YYYY-MM-DD parameters, or the errors naming what is wrong."""
    errors, days = {}, {}
    for name, text in (("date_from", date_from), ("date_to", date_to)):
        try:
            days[name] = date.fromisoformat(text)
        except ValueError:
            errors[name] = f"{text!r} is not a date: use YYYY-MM-DD."
    if errors:
        return None, errors
    period = Period(days["date_from"], days["date_to"])
    if period.date_to < period.date_from:
        return None, {"date_to": "Comes before date_from."}
    if (period.date_to - period.date_from).days >= MAX_DAYS:
        return None, {"date_to": f"At most {MAX_DAYS} days per report."}
    return period, {}


def default_period(today: date) -> Period:
    """This month so far."""
    return Period(today.replace(day=1), today)


def parameters(params: QueryDict) -> tuple[Period | None, Publisher | None, dict[str, str]]:
    """The report's period and publisher from the query string, or the errors naming
    the parameters that are wrong (the page and the API)."""
    default = default_period(timezone.now().date())
    period, errors = period_errors(
        params.get("date_from") or default.date_from.isoformat(),
        params.get("date_to") or default.date_to.isoformat(),
    )
    publisher = None
    wanted = params.get("publisher", "")
    if wanted:
        publisher = Publisher.objects.filter(pk=int(wanted)).first() if wanted.isdigit() else None
        if publisher is None:
            errors["publisher"] = f"No publisher with ID {wanted!r}."
    unknown = sorted(set(params) - {"date_from", "date_to", "publisher", "format"})
    for name in unknown:
        errors[name] = "Not a parameter of this report: use date_from, date_to, publisher."
    return period, publisher, errors


def conversions_in(
    period: Period, publisher: Publisher | None = None, advertiser: Advertiser | None = None
) -> QuerySet[Conversion]:
    conversions = Conversion.objects.filter(created__gte=period.start, created__lt=period.end)
    if publisher is not None:
        conversions = conversions.filter(publisher=publisher)
    if advertiser is not None:
        conversions = conversions.filter(offer__advertiser=advertiser)
    return conversions


def report(
    period: Period, publisher: Publisher | None = None, advertiser: Advertiser | None = None
) -> list[dict]:
    """One row per publisher and day with conversions, by day then publisher ID."""
    conversions = conversions_in(period, publisher, advertiser)
    rows: dict[tuple, dict] = {}
    for found in _conversion_counts(conversions):
        key = (found["day"], found["publisher_id"])
        rows[key] = {**_empty(*key), **found}
    for found in _delivery_counts(conversions):
        key = (found.pop("day"), found.pop("publisher_id"))
        rows.setdefault(key, _empty(*key)).update(found)
    names = dict(
        Publisher.objects.filter(pk__in={pk for _, pk in rows if pk}).values_list("pk", "name")
    )
    ordered = [rows[key] for key in sorted(rows, key=lambda key: (key[0], key[1] or 0))]
    for row in ordered:
        row["publisher"] = names.get(row["publisher_id"], "")
    return ordered


def totals(rows: list[dict]) -> dict:
    summed = {name: sum(row[name] for row in rows) for name in COUNTS}
    for money in ("revenue", "payout"):
        summed[money] = sum((row[money] for row in rows), Decimal(0))
    return summed


def _empty(day: date, publisher_id: int | None) -> dict:
    row: dict = {"day": day, "publisher_id": publisher_id, "publisher": ""}
    row |= dict.fromkeys(COUNTS, 0)
    row |= {"revenue": Decimal(0), "payout": Decimal(0)}
    return row


def _conversion_counts(conversions: QuerySet[Conversion]):
    delivered = Delivery.objects.filter(conversion=OuterRef("pk"), postback_type__in=SENT_TYPES)
    not_rejected = ~Q(status=ConversionStatus.REJECTED)
    return (
        conversions.annotate(day=TruncDate("created", tzinfo=UTC), delivered=Exists(delivered))
        .values("day", "publisher_id")
        .annotate(
            conversions=Count("pk", filter=Q(event__isnull=True)),
            events=Count("pk", filter=Q(event__isnull=False)),
            rejected=Count("pk", filter=~not_rejected),
            revenue=Sum("revenue", default=Decimal(0)),
            payout=Sum("payout", default=Decimal(0)),
            no_config=Count("pk", filter=not_rejected & Q(delivered=False)),
        )
        .order_by()
    )


def _delivery_counts(conversions: QuerySet[Conversion]):
    succeeded = Q(state=DeliveryState.SUCCEEDED)
    return (
        Delivery.objects.filter(conversion__in=conversions, postback_type__in=SENT_TYPES)
        .annotate(day=TruncDate("conversion__created", tzinfo=UTC))
        .values("day", publisher_id=F("conversion__publisher_id"))
        .annotate(
            first_attempt=Count("pk", filter=succeeded & Q(attempts__lte=1)),
            after_retries=Count("pk", filter=succeeded & Q(attempts__gt=1)),
            failed=Count("pk", filter=Q(state=DeliveryState.FAILED)),
            pending=Count("pk", filter=Q(state=DeliveryState.PENDING)),
            skipped=Count("pk", filter=Q(state=DeliveryState.SKIPPED)),
            cancelled=Count("pk", filter=Q(state=DeliveryState.CANCELLED)),
        )
        .order_by()
    )
