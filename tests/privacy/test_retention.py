"""Personal data at rest (SPEC §14): truncated IPs, and the retention purge in batches."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule

from offers.models import Click, Conversion
from postbacks.models import PostbackLog
from privacy import retention
from privacy.addresses import truncated
from privacy.tasks import purge

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("ip", "kept"),
    [
        ("203.0.113.9", "203.0.113.0"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1::"),
        ("::ffff:203.0.113.9", "::"),
        ("not an ip", "not an ip"),
    ],
)
def test_truncation_zeroes_the_last_octet_or_80_bits(ip, kept):
    assert truncated(ip) == kept


def test_clicks_store_truncated_ips_when_asked(client, offer, publisher, settings):
    settings.PRIVACY_TRUNCATE_IP = True
    client.get(f"/click/{offer.pk}/{publisher.pk}/", REMOTE_ADDR="198.51.100.77")
    settings.PRIVACY_TRUNCATE_IP = False
    client.get(f"/click/{offer.pk}/{publisher.pk}/", REMOTE_ADDR="198.51.100.78")

    assert list(Click.objects.order_by("pk").values_list("ip", flat=True)) == [
        "198.51.100.0",
        "198.51.100.78",
    ]


def aged(model, days: float, **fields):
    row = model.objects.create(**fields)
    model.objects.filter(pk=row.pk).update(created=timezone.now() - timedelta(days=days))
    return row


def test_the_purge_deletes_old_logs_and_unconverted_clicks_and_strips_converted_ones(
    offer, publisher, settings
):
    settings.LOG_RETENTION_DAYS, settings.CLICK_RETENTION_DAYS = 90, 180
    logs = {
        name: aged(
            PostbackLog, days, status="success", postback_name="pb", postback_type="click", url="u"
        )
        for name, days in (("old", 91), ("young", 89))
    }
    personal = {"ip": "203.0.113.9", "user_agent": "UA", "google_aid": "gaid-9"}
    old_unconverted = aged(Click, 181, offer=offer, publisher=publisher, **personal)
    old_converted = aged(Click, 181, offer=offer, publisher=publisher, sub1="s", **personal)
    Conversion.objects.create(
        transaction_id=old_converted.transaction_id,
        click=old_converted,
        offer=offer,
        publisher=publisher,
        dedupe_key="k",
    )
    young = aged(Click, 10, offer=offer, publisher=publisher, **personal)

    result = retention.purge()

    assert (result.logs, result.clicks, result.clicks_anonymised, result.finished) == (
        1,
        1,
        1,
        True,
    )
    assert list(PostbackLog.objects.values_list("pk", flat=True)) == [logs["young"].pk]
    assert not Click.objects.filter(pk=old_unconverted.pk).exists()
    kept = Click.objects.get(pk=old_converted.pk)
    assert (kept.ip, kept.user_agent, kept.google_aid, kept.sub1) == (None, "", "", "s")
    assert Click.objects.get(pk=young.pk).google_aid == "gaid-9"
    assert retention.purge().logs == 0  # nothing left: the next run finds nothing


def test_a_run_stops_at_its_budget_and_the_next_goes_on(settings, monkeypatch):
    settings.LOG_RETENTION_DAYS = 1
    monkeypatch.setattr(retention, "BATCH", 2)
    for _ in range(5):
        aged(PostbackLog, 3, status="failed", postback_name="pb", postback_type="click", url="u")

    first = retention.purge_logs(timezone.now() - timedelta(days=1), time.monotonic() + 0)
    assert first == (0, False)  # no time at all: nothing done, and it says so
    done = retention.purge_logs(timezone.now() - timedelta(days=1), time.monotonic() + 30)
    assert done == (5, True)


def test_the_purge_is_scheduled_hourly_and_reports_what_it_did():
    schedule = Schedule.objects.get(name="privacy.purge")
    assert (schedule.func, schedule.schedule_type) == ("privacy.tasks.purge", Schedule.HOURLY)
    assert purge() == "purged 0 log rows, 0 clicks; 0 clicks stripped of personal data"
