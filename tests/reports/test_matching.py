"""Two-sided reconciliation (SPEC §13): a publisher's report against our conversions, with
a reason for each one only we have — through real deliveries to a loopback receiver."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from bs4 import BeautifulSoup
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from offers.models import Click, Conversion, Offer
from postbacks.models import PostbackConfig
from postbacks.services import reject_conversion
from reports.matching import Columns, UploadError, match, read_report
from reports.models import Reconciliation
from reports.reconciliation import Period
from tests.conftest import convert
from tests.delivery.conftest import fire_due_now
from tests.delivery.receiver import Answer

pytestmark = pytest.mark.django_db(transaction=True)
FATES = ["delivered", "lost", "failed", "late", "disabled", "none", "rejected", "pending"]


@pytest.fixture
def month(client, advertiser, advertiser_key, publisher, receiver):
    """One offer per fate, all for one publisher, converting today: {fate: transaction_id}."""
    offers = {
        fate: Offer.objects.create(
            advertiser=advertiser,
            name=f"Offer {fate}",
            destination_url="https://store.example/",
            revenue=Decimal("1"),
            payout=Decimal("1"),
        )
        for fate in FATES
    }

    def config(fate: str, **fields) -> PostbackConfig:
        return PostbackConfig.objects.create(
            name=f"{fate} pb",
            publisher=publisher,
            offer=offers[fate],
            postback_type="conversion",
            url=receiver.url(f"/{fate}"),
            timeout_seconds=3,
            **fields,
        )

    def conversion(fate: str, hours_ago: float = 0) -> str:
        click = Click.objects.create(offer=offers[fate], publisher=publisher)
        if hours_ago:
            Click.objects.filter(pk=click.pk).update(
                created=timezone.now() - timedelta(hours=hours_ago)
            )
        convert(client, advertiser_key, transaction_id=click.transaction_id)
        return click.transaction_id

    ids = {}
    config("delivered")
    ids["delivered"] = conversion("delivered")
    config("lost")
    ids["lost"] = conversion("lost")  # delivered too; their report will not have it
    config("failed", max_attempts=1)
    receiver.answer(Answer(500))
    ids["failed"] = conversion("failed")
    config("late", accept_window_hours=1)
    ids["late"] = conversion("late", hours_ago=3)
    config("disabled", enabled=False)
    ids["disabled"] = conversion("disabled")
    ids["none"] = conversion("none")
    ids["rejected"] = conversion("rejected")
    reject_conversion(Conversion.objects.get(transaction_id=ids["rejected"]), "fraud")
    config("pending")
    receiver.answer(Answer(503))
    ids["pending"] = conversion("pending")
    return ids


def their_report(*transaction_ids: str, header: str = "Click ID,Payout") -> bytes:
    lines = [header] + [f"{tid},1.00" for tid in transaction_ids]
    return ("\r\n".join(lines) + "\r\n").encode()


def today() -> Period:
    return Period(timezone.now().date(), timezone.now().date())


def test_every_reason_for_what_only_we_have(month, publisher):
    report = their_report(month["delivered"], "unknown-1", "unknown-2")

    found = match(report, publisher, today(), Columns("Click ID"))

    assert found.both == 1
    assert found.theirs_only == [
        {"line": 3, "transaction_id": "unknown-1"},
        {"line": 4, "transaction_id": "unknown-2"},
    ]
    reasons = {row["transaction_id"]: (row["reason"], row["detail"]) for row in found.ours_only}
    assert month["rejected"] not in reasons  # not payable: not theirs to report
    assert set(reasons) == {
        month[fate] for fate in ("lost", "failed", "late", "disabled", "none", "pending")
    }
    assert reasons[month["lost"]][0] == "delivered"
    assert reasons[month["lost"]][1].startswith("Delivered: 200 at ")
    assert reasons[month["lost"]][1].endswith("UTC; the publisher lost it.")
    assert reasons[month["failed"]] == ("failed", "Failed: 500 HTTP 500")
    assert reasons[month["late"]] == (
        "skipped",
        "Skipped: Late: 3 h after the click; the publisher accepts 1 h",
    )
    assert reasons[month["disabled"]] == (
        "config_disabled",
        "Its postback config 'disabled pb' is disabled.",
    )
    assert reasons[month["none"]] == ("no_config", "No postback config matched: nothing was sent.")
    assert reasons[month["pending"]][0] == "pending"
    assert reasons[month["pending"]][1].startswith("Pending after HTTP 503; next attempt ")


def test_a_cancelled_delivery_reads_as_its_config_disabled(month, publisher):
    config = PostbackConfig.objects.get(name="pending pb")
    config.enabled = False
    config.save()
    fire_due_now()  # claimed with its config disabled: cancelled

    found = match(their_report(), publisher, today(), Columns("Click ID"))

    reasons = {row["transaction_id"]: row for row in found.ours_only}
    assert reasons[month["pending"]]["reason"] == "config_disabled"
    assert "disabled" in reasons[month["pending"]]["detail"]


def test_matching_by_event_uses_the_publishers_event_names(
    client, advertiser_key, click, make_config, purchase, receiver, publisher
):
    make_config(receiver.url("/e"), postback_type="event", event_names={"purchase": "af_purchase"})
    convert(client, advertiser_key, transaction_id=click.transaction_id, event="purchase")
    report = (
        f"tid,event\r\n{click.transaction_id},AF_PURCHASE\r\n{click.transaction_id},install\r\n"
    )

    found = match(report.encode(), publisher, today(), Columns("tid", event="event"))

    assert found.both == 1
    assert found.theirs_only == [{"line": 3, "transaction_id": click.transaction_id}]
    assert found.ours_only == []


def test_their_rows_outside_the_period_are_left_out(month, publisher):
    yesterday = timezone.now() - timedelta(days=1)
    report = (
        "tid,when\r\n"
        f"{month['delivered']},{timezone.now():%Y-%m-%d %H:%M:%S}\r\n"
        f"old-one,{yesterday:%Y-%m-%dT%H:%M:%SZ}\r\n"
    ).encode()

    found = match(report, publisher, today(), Columns("tid", time="when"))

    assert (found.both, found.theirs_only, found.outside_period) == (1, [], 1)


@pytest.mark.parametrize(
    ("content", "columns", "words"),
    [
        ("tid\r\nabc\r\n".encode("utf-16"), Columns("tid"), "Line 1 is not UTF-8 text"),
        (b"tid\r\nok\r\n\xe9t\xe9\r\n", Columns("tid"), "Line 3 is not UTF-8 text"),
        (b"tid,payout\r\na,1\r\n", Columns("Click ID"), "No column 'Click ID' in the header row"),
        (
            b"tid,payout\r\na,1\r\nb,2,3\r\n",
            Columns("tid"),
            "Line 3 has 3 fields; the header has 2.",
        ),
        (b"tid,payout\r\n,1\r\n", Columns("tid"), "Line 2 has no transaction ID"),
        (b"", Columns("tid"), "The file is empty"),
        (b"tid,when\r\na,soon\r\n", Columns("tid", time="when"), "Line 2: 'soon' in column 'when'"),
        (b'tid\r\n"unclosed\r\n', Columns("tid"), "Line"),
    ],
)
def test_malformed_files_name_the_problem_and_the_line(db, content, columns, words):
    with pytest.raises(UploadError) as refused:
        read_report(content, columns, today())
    assert words in str(refused.value)


def test_over_50_mb_is_refused(db):
    with pytest.raises(UploadError, match="over 50 MB"):
        read_report(b"x" * (50 * 1024 * 1024 + 1), Columns("tid"), today())


def test_a_utf8_bom_and_header_case_are_fine(db):
    rows, _ = read_report("\ufeffCLICK ID\r\nabc\r\n".encode(), Columns("click id"), today())
    assert [(row.line, row.transaction_id) for row in rows] == [(2, "abc")]


# The page and the API.


def upload(report: bytes, name: str = "their-report.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, report, content_type="text/csv")


def test_the_page_matches_keeps_the_answer_and_downloads_each_list(month, ops_client, publisher):
    day = f"{timezone.now():%Y-%m-%d}"
    response = ops_client.post(
        "/reports/reconciliation/match/",
        {
            "publisher": publisher.pk,
            "date_from": day,
            "date_to": day,
            "file": upload(their_report(month["delivered"], "unknown-1")),
            "transaction_id_column": "Click ID",
        },
    )

    assert response.status_code == 302
    result = ops_client.get(response["Location"])
    soup = BeautifulSoup(result.content, "html.parser")
    assert soup.select_one("#count-both").get_text() == "1"
    assert soup.select_one("#count-ours").get_text() == "6"
    assert soup.select_one("#count-theirs").get_text() == "1"
    kept = Reconciliation.objects.get()
    lists = {}
    for which in ("ours-only", "theirs-only", "both"):
        csv_response = ops_client.get(f"/reports/reconciliation/match/{kept.pk}/{which}.csv")
        lists[which] = list(csv.reader(io.StringIO(csv_response.content.decode())))
    assert lists["theirs-only"] == [["line", "transaction_id"], ["3", "unknown-1"]]
    assert lists["both"][1][0] == month["delivered"]
    assert lists["ours-only"][0] == ["transaction_id", "event", "conversion_id", "reason", "detail"]
    assert len(lists["ours-only"]) == 7
    assert ops_client.get(f"/reports/reconciliation/match/{kept.pk}/other.csv").status_code == 404


def test_a_failed_upload_names_the_line_and_keeps_nothing(month, ops_client, publisher):
    day = f"{timezone.now():%Y-%m-%d}"
    response = ops_client.post(
        "/reports/reconciliation/match/",
        {
            "publisher": publisher.pk,
            "date_from": day,
            "date_to": day,
            "file": upload(b"Click ID\r\nabc\r\nd,e\r\n"),
            "transaction_id_column": "Click ID",
        },
    )

    assert response.status_code == 400
    error = BeautifulSoup(response.content, "html.parser").select_one("#field-file .field-error")
    assert error.get_text() == "Line 3 has 2 fields; the header has 1."
    assert not Reconciliation.objects.exists()


def test_the_api_answers_the_three_lists(month, client, staff_key, publisher):
    day = f"{timezone.now():%Y-%m-%d}"
    response = client.post(
        "/api/v1/reports/reconciliation/match/",
        {
            "file": upload(their_report(month["delivered"], "unknown-1")),
            "publisher": publisher.pk,
            "date_from": day,
            "date_to": day,
            "transaction_id_column": "Click ID",
        },
        HTTP_AUTHORIZATION=f"Bearer {staff_key}",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["both"] == 1
    assert body["theirs_only"] == [{"line": 3, "transaction_id": "unknown-1"}]
    assert {row["reason"] for row in body["ours_only"]} == {
        "delivered",
        "failed",
        "skipped",
        "config_disabled",
        "no_config",
        "pending",
    }
    assert set(body["ours_only"][0]) == {
        "transaction_id",
        "event",
        "conversion_id",
        "reason",
        "detail",
    }
    assert not Reconciliation.objects.exists()  # the API keeps nothing


def test_the_api_names_a_bad_file_or_field(client, staff_key, publisher):
    response = client.post(
        "/api/v1/reports/reconciliation/match/",
        {
            "file": upload(b"a,b\r\n1,2,3\r\n"),
            "publisher": publisher.pk,
            "date_from": "2026-12-01",
            "date_to": "2026-11-01",
            "transaction_id_column": "a",
        },
        HTTP_AUTHORIZATION=f"Bearer {staff_key}",
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"date_to"}
    missing = client.post(
        "/api/v1/reports/reconciliation/match/",
        {"publisher": publisher.pk},
        HTTP_AUTHORIZATION=f"Bearer {staff_key}",
    )
    assert missing.status_code == 400
    assert {"file", "date_from", "date_to", "transaction_id_column"} <= set(
        missing.json()["errors"]
    )


def test_an_advertiser_matches_only_its_own_conversions(month, client, outsider_key, publisher):
    day = f"{timezone.now():%Y-%m-%d}"
    response = client.post(
        "/api/v1/reports/reconciliation/match/",
        {
            "file": upload(their_report(month["delivered"])),
            "publisher": publisher.pk,
            "date_from": day,
            "date_to": day,
            "transaction_id_column": "Click ID",
        },
        HTTP_AUTHORIZATION=f"Bearer {outsider_key}",
    )
    assert response.status_code == 200
    assert response.json() == {
        "both": 0,
        "ours_only": [],
        "theirs_only": [{"line": 2, "transaction_id": month["delivered"]}],
    }
