"""The reconciliation report (SPEC §13): per publisher and day, what was attributed and what
became of its postbacks, every figure equal to the rows its link opens."""

import csv
import io
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from bs4 import BeautifulSoup
from django.utils import timezone

from offers.models import Click, Conversion, Publisher
from postbacks.models import Delivery, PostbackConfig
from postbacks.services import reject_conversion
from reports.reconciliation import COLUMNS, Period, report
from tests.conftest import convert
from tests.delivery.conftest import fire_due_now
from tests.delivery.receiver import Answer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def month(client, offer, advertiser_key, purchase, receiver):
    """One publisher per fate of a postback, all converting today."""
    names = ["ok", "retried", "failed", "late", "cancelled", "none", "pending"]
    publishers = {name: Publisher.objects.create(name=f"P {name}") for name in names}

    def config(name: str, **fields) -> PostbackConfig:
        fields.setdefault("timeout_seconds", 3)
        return PostbackConfig.objects.create(
            name=f"{name} pb",
            publisher=publishers[name],
            postback_type="conversion",
            url=receiver.url(f"/{name}"),
            **fields,
        )

    def conversion(name: str, hours_ago: float = 0, **params) -> Conversion:
        click = Click.objects.create(offer=offer, publisher=publishers[name])
        if hours_ago:
            Click.objects.filter(pk=click.pk).update(
                created=timezone.now() - timedelta(hours=hours_ago)
            )
        convert(client, advertiser_key, transaction_id=click.transaction_id, **params)
        return Conversion.objects.get(click=click, event__isnull="event" not in params)

    config("ok")
    conversion("ok")
    conversion("ok", event=purchase.name)  # no Event config: nothing to deliver
    config("retried")
    receiver.answer(Answer(503))
    conversion("retried")
    fire_due_now()  # the retry succeeds
    config("failed", max_attempts=1)
    receiver.answer(Answer(500))
    conversion("failed")
    config("late", accept_window_hours=1)
    conversion("late", hours_ago=2)
    cancelled = config("cancelled", delay_seconds=3600)
    conversion("cancelled")
    cancelled.enabled = False
    cancelled.save()
    fire_due_now()  # claimed with its config disabled: cancelled
    conversion("none")
    reject_conversion(conversion("none"), "fraud")
    config("pending")
    receiver.answer(Answer(503))
    conversion("pending")
    return publishers


def today() -> Period:
    day = timezone.now().date()
    return Period(day, day)


def test_every_fate_lands_in_its_column(month):
    rows = {row["publisher"]: row for row in report(today())}

    figures = {
        name: {
            column: rows[f"P {name}"][column]
            for column, _ in COLUMNS[3:]
            if column not in ("revenue", "payout") and rows[f"P {name}"][column]
        }
        for name in month
    }
    assert figures == {
        "ok": {"conversions": 1, "events": 1, "first_attempt": 1, "no_config": 1},
        "retried": {"conversions": 1, "after_retries": 1},
        "failed": {"conversions": 1, "failed": 1},
        "late": {"conversions": 1, "skipped": 1},
        "cancelled": {"conversions": 1, "cancelled": 1},
        "none": {"conversions": 2, "rejected": 1, "no_config": 1},
        "pending": {"conversions": 1, "pending": 1},
    }


def test_each_figure_links_to_exactly_its_rows(month, ops_client, admin_client):
    response = ops_client.get("/reports/reconciliation/")
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    links = soup.select("#reconciliation tbody a")
    assert len(links) >= 14
    for link in links:
        parts = urlsplit(link["href"])
        params = dict(parse_qsl(parts.query))
        model = Delivery if "delivery" in parts.path else Conversion
        lookups = {
            name: value.split(",") if name.endswith("__in") else value
            for name, value in params.items()
        }
        for name in [n for n in lookups if n.endswith("__isnull")]:
            lookups[name] = lookups[name] == "True"
        text = link.get_text()
        if "." not in text:  # a count (revenue and payout open their conversions)
            count = model.objects.filter(**lookups).distinct().count()
            assert count == int(text.replace(",", "")), link["href"]
        page = admin_client.get(link["href"])
        assert page.status_code == 200, link["href"]  # the admin accepts the filters
        assert "?e=1" not in page.get("Location", "")


def test_the_csv_has_the_columns_and_the_period_in_its_name(month, ops_client):
    day = timezone.now().date()
    response = ops_client.get("/reports/reconciliation/", {"format": "csv"})

    assert response["Content-Disposition"] == (
        f'attachment; filename="reconciliation-{day.replace(day=1)}-{day}.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [label for _, label in COLUMNS]
    assert sorted(row[2] for row in rows[1:]) == sorted(f"P {name}" for name in month)


def test_one_publisher_and_a_period_without_conversions(month, ops_client):
    publisher = month["failed"]
    only = ops_client.get("/reports/reconciliation/", {"publisher": publisher.pk})
    soup = BeautifulSoup(only.content, "html.parser")
    assert [
        row.find_all("td")[2].get_text() for row in soup.select("#reconciliation tbody tr")
    ] == ["P failed"]
    empty = ops_client.get(
        "/reports/reconciliation/", {"date_from": "2020-01-01", "date_to": "2020-01-31"}
    )
    assert "No conversions from 2020-01-01 to 2020-01-31" in empty.content.decode()


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"date_from": "yesterday"}, "date_from"),
        ({"date_from": "2026-02-01", "date_to": "2026-01-01"}, "date_to"),
        ({"date_from": "2024-01-01", "date_to": "2026-01-01"}, "date_to"),
        ({"publisher": "999999"}, "publisher"),
        ({"publisher": "x"}, "publisher"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_parameters_are_a_400_naming_them(ops_client, db, params, name):
    response = ops_client.get("/reports/reconciliation/", params)
    assert response.status_code == 400
    errors = BeautifulSoup(response.content, "html.parser").select_one(".alert-error")
    assert name in errors.get_text()


def test_staff_only(client, django_user_model, db):
    assert client.get("/reports/reconciliation/").status_code == 302
    django_user_model.objects.create_user("viewer", password="pw")
    client.login(username="viewer", password="pw")
    assert client.get("/reports/reconciliation/").status_code == 403


def test_days_are_utc_days_of_the_conversion(offer, publisher, db):
    late_evening = datetime(2026, 11, 30, 23, 59, tzinfo=UTC)
    for moment in (late_evening, late_evening + timedelta(minutes=2)):
        Conversion.objects.create(
            transaction_id="t",
            offer=offer,
            publisher=publisher,
            created=moment,
            dedupe_key=str(moment),
        )
    rows = report(Period(late_evening.date(), late_evening.date() + timedelta(days=1)))
    assert [(row["day"].isoformat(), row["conversions"]) for row in rows] == [
        ("2026-11-30", 1),
        ("2026-12-01", 1),
    ]


def test_the_api_answers_the_same_rows_scoped_to_the_advertiser(
    month, client, staff_key, outsider, outsider_key, advertiser_key
):
    staff = client.get("/api/v1/reports/reconciliation/", HTTP_AUTHORIZATION=f"Bearer {staff_key}")
    assert staff.status_code == 200, staff.content
    body = staff.json()
    assert [row["publisher"] for row in body["rows"]] == [
        row["publisher"] for row in report(today())
    ]
    assert body["totals"]["conversions"] == 8 and body["totals"]["skipped"] == 1
    assert isinstance(body["rows"][0]["revenue"], str)

    own = client.get(
        "/api/v1/reports/reconciliation/", HTTP_AUTHORIZATION=f"Bearer {advertiser_key}"
    ).json()
    assert own["totals"]["conversions"] == 8
    theirs = client.get(
        "/api/v1/reports/reconciliation/", HTTP_AUTHORIZATION=f"Bearer {outsider_key}"
    ).json()
    assert (theirs["rows"], theirs["totals"]["conversions"]) == ([], 0)


def test_the_api_names_bad_parameters(client, staff_key, db):
    response = client.get(
        "/api/v1/reports/reconciliation/?date_from=soon&publisher=x",
        HTTP_AUTHORIZATION=f"Bearer {staff_key}",
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"date_from", "publisher"}


def test_the_report_is_in_the_schema(client, db):
    schema = client.get("/api/v1/schema/?format=json").json()
    assert "/api/v1/reports/reconciliation/" in schema["paths"]
