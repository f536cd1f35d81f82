"""`/reports/reconciliation/` (staff): the reconciliation report, with a CSV, every
figure linking to the rows behind it in the admin."""

import csv
import io
from collections import Counter
from dataclasses import asdict
from datetime import timedelta
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from accounts.access import staff_required
from logs.export import FORMULA_STARTS
from offers.models import ConversionStatus, Publisher
from postbacks.models import DeliveryState
from reports.forms import MatchForm
from reports.matching import REASONS, UploadError, match
from reports.models import Reconciliation
from reports.reconciliation import COLUMNS, SENT_TYPES, Period, parameters, report, totals

# The admin list filters behind each delivery figure.
DELIVERY_FILTERS: dict[str, dict[str, str]] = {
    "first_attempt": {"state__exact": DeliveryState.SUCCEEDED, "attempts__lte": "1"},
    "after_retries": {"state__exact": DeliveryState.SUCCEEDED, "attempts__gt": "1"},
    "failed": {"state__exact": DeliveryState.FAILED},
    "pending": {"state__exact": DeliveryState.PENDING},
    "skipped": {"state__exact": DeliveryState.SKIPPED},
    "cancelled": {"state__exact": DeliveryState.CANCELLED},
}
NOT_REJECTED = ",".join(s for s in ConversionStatus.values if s != ConversionStatus.REJECTED)
CONVERSION_FILTERS: dict[str, dict[str, str]] = {
    "conversions": {"event__isnull": "True"},
    "events": {"event__isnull": "False"},
    "rejected": {"status__exact": ConversionStatus.REJECTED},
    "no_config": {"deliveries__isnull": "True", "status__in": NOT_REJECTED},
}


@staff_required
def reconciliation(request: HttpRequest) -> HttpResponse:
    period, publisher, errors = parameters(request.GET)
    if errors or period is None:
        context = {"errors": errors, "params": request.GET, "publishers": _publishers()}
        return render(request, "reports/reconciliation.html", context, status=400)
    rows = report(period, publisher)
    if request.GET.get("format") == "csv":
        return _csv(rows, period, publisher)
    table = [_cells(row, _links(row)) for row in rows]
    query = request.GET.copy()
    query["format"] = "csv"
    context = {
        "period": period,
        "publisher": publisher,
        "publishers": _publishers(),
        "rows": rows,
        "table": table,
        "totals": _cells(totals(rows), {}),
        "columns": COLUMNS,
        "csv_query": query.urlencode(),
        "params": request.GET,
    }
    return render(request, "reports/reconciliation.html", context)


def _publishers():
    return Publisher.objects.only("name").order_by("name")


def _links(row: dict) -> dict[str, str]:
    """The admin lists of the conversions and deliveries behind each figure of a row."""
    start = f"{row['day']:%Y-%m-%d}T00:00:00Z"
    end = f"{row['day'] + timedelta(days=1):%Y-%m-%d}T00:00:00Z"
    publisher = {"publisher__id__exact": row["publisher_id"]} if row["publisher_id"] else {}
    conversions = reverse("admin:offers_conversion_changelist")
    deliveries = reverse("admin:postbacks_delivery_changelist")
    scope = {**publisher, "created__gte": start, "created__lt": end}
    links = {
        name: f"{conversions}?{urlencode({**scope, **filters})}"
        for name, filters in CONVERSION_FILTERS.items()
    }
    delivery_scope = {
        **{f"conversion__{name}": value for name, value in scope.items()},
        "postback_type__in": ",".join(SENT_TYPES),
    }
    links |= {
        name: f"{deliveries}?{urlencode({**delivery_scope, **filters})}"
        for name, filters in DELIVERY_FILTERS.items()
    }
    return links


def _cells(row: dict, links: dict[str, str]) -> list[tuple[str, str, str]]:
    """(text, link, css class) per column; counts of 0 link nowhere."""
    cells = []
    for name, _ in COLUMNS:
        value = row.get(name, "")
        link = links.get(name, "") if value else ""
        if name in ("revenue", "payout"):
            text, link = f"{value:,.2f}", links.get("conversions", "") if value else ""
        elif name == "day":
            text = f"{value:%Y-%m-%d}" if value else "Total"
        elif name == "publisher_id":
            text = str(value) if value else ("—" if "day" in row else "")
        elif isinstance(value, int):
            text = f"{value:,}"
        else:
            text = str(value)
        bad = name in ("failed", "no_config", "skipped", "pending") and value
        css = "nowrap" if name == "day" else "" if name == "publisher" else "num"
        cells.append((text, link, css + (" bad" if bad else "")))
    return cells


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] and text[0] in FORMULA_STARTS else text


def _csv(rows: list[dict], period: Period, publisher: Publisher | None) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([label for _, label in COLUMNS])
    for row in rows:
        writer.writerow([_cell(row[name]) for name, _ in COLUMNS])
    who = f"-publisher-{publisher.pk}" if publisher is not None else ""
    name = f"reconciliation-{period.date_from}-{period.date_to}{who}.csv"
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@staff_required
def match_upload(request: HttpRequest) -> HttpResponse:
    """GET: the upload form. POST: match the file; the answer is kept, the file is not."""
    form = MatchForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            found = match(upload.read(), form.cleaned_data["publisher"], form.period, form.columns)
        except UploadError as problem:
            form.add_error("file", str(problem))
        else:
            kept = Reconciliation.objects.create(
                user=request.user if request.user.is_authenticated else None,
                publisher=form.cleaned_data["publisher"],
                date_from=form.period.date_from,
                date_to=form.period.date_to,
                filename=upload.name[:255],
                columns=asdict(form.columns),
                both=found.both,
                in_both=found.in_both,
                ours_only=found.ours_only,
                theirs_only=found.theirs_only,
                outside_period=found.outside_period,
            )
            return redirect("reports:match-result", pk=kept.pk)
    status = 400 if request.method == "POST" else 200
    recent = Reconciliation.objects.select_related("publisher").only(
        "created", "publisher__name", "date_from", "date_to", "filename", "both"
    )[:10]
    return render(request, "reports/match.html", {"form": form, "recent": recent}, status=status)


SHOWN = 200  # rows of each list on the page; the CSVs have them all
LISTS = {
    "ours-only": ("ours_only", ["transaction_id", "event", "conversion_id", "reason", "detail"]),
    "theirs-only": ("theirs_only", ["line", "transaction_id"]),
    "both": ("in_both", ["transaction_id", "event", "conversion_id"]),
}


@staff_required
def match_result(request: HttpRequest, pk: int) -> HttpResponse:
    kept = get_object_or_404(Reconciliation.objects.select_related("publisher"), pk=pk)
    reasons = Counter(row["reason"] for row in kept.ours_only)
    context = {
        "kept": kept,
        "reasons": [(reason, reasons[reason]) for reason in REASONS if reasons[reason]],
        "ours_only": kept.ours_only[:SHOWN],
        "theirs_only": kept.theirs_only[:SHOWN],
        "in_both": kept.in_both[:SHOWN],
        "shown": SHOWN,
    }
    return render(request, "reports/match_result.html", context)


@staff_required
def match_csv(request: HttpRequest, pk: int, which: str) -> HttpResponse:
    kept = get_object_or_404(Reconciliation, pk=pk)
    if which not in LISTS:
        raise Http404("No such list: use ours-only, theirs-only or both.")
    attribute, names = LISTS[which]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(names)
    for row in getattr(kept, attribute):
        writer.writerow([_cell(row.get(name, "")) for name in names])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    filename = f"reconciliation-{kept.pk}-{which}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
