"""Rollups written with the attempts: after a mixed run through real loopback receivers,
every figure of /api/v1/stats/ equals the one computed from the log and delivery rows."""

import math
import socket
from collections import defaultdict
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from offers.models import Click, Offer, Publisher
from postbacks import rollups, services
from postbacks.models import AttemptRollup, Delivery, PostbackConfig, PostbackLog
from postbacks.rollups import (
    LATENCY_EDGES_MS,
    TO_SUCCESS_EDGES_MS,
    bucket_start,
    outcome_class,
)
from postbacks.stats import GROUPINGS, SERIES_INTERVALS, WINDOWS, window_start
from postbacks.transport import Outcome
from tests.conftest import convert
from tests.delivery.conftest import fire_due_now
from tests.delivery.receiver import Answer

pytestmark = pytest.mark.django_db(transaction=True)

ONLY_127_0_0_1 = override_settings(POSTBACK_ALLOW_NETWORKS=["127.0.0.1/32"])
FINISHED = ("succeeded", "failed")
MODELS = {"publisher": Publisher, "config": PostbackConfig, "offer": Offer}


@pytest.mark.parametrize(
    ("code", "error", "kind"),
    [
        (200, "", "succeeded"),
        (204, "", "succeeded"),
        (404, "HTTP 404", "failed_4xx"),
        (302, "Too many redirects (more than 3)", "failed_4xx"),
        (500, "HTTP 500", "failed_5xx"),
        (503, "HTTP 503", "failed_5xx"),
        (0, "Timeout after 10 s", "timeout"),
        (200, "Timeout after 10 s", "timeout"),  # the body stopped coming
        (0, "Connection refused", "network"),
        (0, "DNS lookup failed for pb.example", "network"),
        (0, "TLS error: certificate verify failed", "network"),
        (0, "Interrupted: the worker stopped during this attempt", "network"),
        (0, "Could not load the conversion (ValueError: x)", "network"),
        (0, "Blocked: 10.0.0.5 is a private address", "blocked"),
        (0, "Blocked: the URL template puts a macro in the host", "blocked"),
    ],
)
def test_outcome_classes(code, error, kind):
    assert outcome_class(Outcome(url="http://x/", response_code=code, error=error)) == kind


def test_buckets_are_five_minutes_aligned_on_the_hour():
    moment = timezone.now().replace(hour=10, minute=7, second=31, microsecond=5)
    assert bucket_start(moment) == moment.replace(minute=5, second=0, microsecond=0)
    assert bucket_start(moment, timedelta(hours=6)) == moment.replace(
        hour=6, minute=0, second=0, microsecond=0
    )


def test_send_tests_are_not_counted(make_config, receiver):
    services.send_test(make_config(receiver.url("/pb")))

    assert PostbackLog.objects.get().trigger == "test"
    assert not AttemptRollup.objects.exists()


def test_attempts_of_one_bucket_add_up_in_one_row(
    client, offer, publisher, advertiser_key, make_config, receiver, monkeypatch
):
    monkeypatch.setattr(rollups, "UPSERT_BATCH", 2)  # three groups: two statements
    configs = [make_config(receiver.url(f"/pb{n}"), name=f"pb{n}") for n in range(3)]
    for _ in range(3):
        click = Click.objects.create(offer=offer, publisher=publisher)
        convert(client, advertiser_key, transaction_id=click.transaction_id)

    assert PostbackLog.objects.count() == 9
    for config in configs:
        rows = AttemptRollup.objects.filter(config_id=config.pk)
        assert {(row.offer_id, row.publisher_id) for row in rows} == {(offer.pk, publisher.pk)}
        assert sum(row.attempts for row in rows) == sum(row.succeeded for row in rows) == 3
        assert len(rows) == len({row.bucket for row in rows})  # one row per bucket, added to


@ONLY_127_0_0_1
def test_stats_equal_the_figures_of_the_log(
    client, offer, publisher, staff_key, advertiser_key, make_config, make_receiver
):
    mixed_run(offer, publisher, make_config, make_receiver, client, advertiser_key)
    for by in GROUPINGS:
        for window in WINDOWS:
            body = stats_of(client, staff_key, window=window, by=by)
            assert body["groups"] == expected_groups(by), (window, by)
            assert body["series"] == expected_series(window, body["series"]), window
            assert_backlog(body["backlog"])


def mixed_run(offer, publisher, make_config, make_receiver, client, key) -> None:
    """200, 400, 500 (twice, then given up), 500 then 200, a hang, a refused port and a
    blocked address for two conversions of one publisher, and 200 for another."""
    answers = {
        "ok": Answer(200),
        "bad": Answer(400, "unknown click"),
        "down": Answer(500),
        "hang": Answer(hold=True),
    }
    for name, answer in answers.items():
        receiver = make_receiver()
        receiver.default = answer
        make_config(receiver.url(f"/{name}"), name=name, max_attempts=2, timeout_seconds=1)
    flaky = make_receiver()
    flaky.answer(Answer(500), Answer(500))
    make_config(flaky.url("/flaky"), name="flaky", max_attempts=3)
    make_config(f"http://127.0.0.1:{closed_port()}/refused", name="refused")
    make_config(make_receiver("127.0.0.2").url("/blocked"), name="blocked")
    other = Publisher.objects.create(name="Other Media")
    make_config(make_receiver().url("/other"), name="other", publisher=other)
    for click_publisher in (publisher, publisher, other):
        click = Click.objects.create(offer=offer, publisher=click_publisher)
        assert convert(client, key, transaction_id=click.transaction_id).status_code == 200
    fire_due_now()  # second attempts: down and hang give up, flaky succeeds
    # One delivery due now, and not dispatched, for the backlog.
    Delivery.objects.filter(config__name="refused").filter(pk=first_pending()).update(
        next_attempt_at=timezone.now() - timedelta(seconds=30)
    )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def first_pending() -> int:
    return Delivery.objects.filter(state="pending").order_by("pk").values_list("pk", flat=True)[0]


def stats_of(client, key, **params) -> dict:
    response = client.get("/api/v1/stats/", params, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200, response.content
    return response.json()


# The same figures, from the log and delivery rows.


def kind_of(log: PostbackLog) -> str:
    if log.status == "success":
        return "succeeded"
    if log.error.startswith("Blocked:"):
        return "blocked"
    if log.error.startswith("Timeout after"):
        return "timeout"
    if log.response_code >= 500:
        return "5xx"
    return "4xx" if log.response_code else "network"


def upper_edge(values: list[int], fraction: float, edges) -> int | None:
    """The ceil(fraction × n)-th smallest value, reported as its histogram bucket's edge."""
    if not values:
        return None
    value = sorted(values)[max(1, math.ceil(fraction * len(values))) - 1]
    return next((edge for edge in edges if value <= edge), edges[-1])


def expected_groups(by: str) -> list[dict]:
    logs = defaultdict(list)
    for log in PostbackLog.objects.exclude(trigger="test").select_related("conversion"):
        logs[getattr(log, GROUPINGS[by])].append(log)
    return [expected_group(by, pk, rows) for pk, rows in sorted(logs.items())]


def expected_group(by: str, pk: int, logs: list[PostbackLog]) -> dict:
    deliveries = Delivery.objects.filter(
        pk__in={log.delivery_id for log in logs}, state__in=FINISHED
    )
    finished = list(deliveries.values_list("state", flat=True))
    firsts = [log for log in logs if log.attempt == 1]
    successes = [log for log in logs if log.status == "success"]
    to_success = [
        int((log.created - log.conversion.created).total_seconds() * 1000) for log in successes
    ]
    return {
        "id": pk,
        "name": MODELS[by].objects.get(pk=pk).name,
        "attempts": len(logs),
        "deliveries_finished": len(finished),
        "first_attempt_success_rate": rate(
            sum(log.status == "success" for log in firsts), len(firsts)
        ),
        "success_rate": rate(finished.count("succeeded"), len(finished)),
        "failures": {
            kind: sum(kind_of(log) == kind for log in logs)
            for kind in ("4xx", "5xx", "timeout", "network", "blocked", "rejected", "skipped")
        },
        "latency_ms": {
            f"p{p}": upper_edge([log.duration_ms for log in logs], p / 100, LATENCY_EDGES_MS)
            for p in (50, 95)
        },
        "conversion_to_success_ms": {
            f"p{p}": upper_edge(to_success, p / 100, TO_SUCCESS_EDGES_MS) for p in (50, 95)
        },
    }


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def expected_series(window: str, series: list[dict]) -> list[dict]:
    interval = SERIES_INTERVALS[window]
    counts: dict[str, dict] = {
        point["start"]: dict(point, succeeded=0, failed=0) for point in series
    }
    logs = PostbackLog.objects.exclude(trigger="test")
    for log in logs.filter(created__gte=window_start(window, timezone.now())):
        start = bucket_start(log.created, interval).isoformat().replace("+00:00", "Z")
        counts[start]["succeeded" if log.status == "success" else "failed"] += 1
    first = bucket_start(window_start(window, timezone.now()), interval)
    assert series[0]["start"] == first.isoformat().replace("+00:00", "Z")
    return list(counts.values())


def assert_backlog(backlog: dict) -> None:
    now = timezone.now()
    due = Delivery.objects.filter(
        state="pending", next_attempt_at__lte=now, locked_until__lte=now
    ).order_by("next_attempt_at")
    assert backlog["due"] == due.count() == 1
    oldest = (now - due[0].next_attempt_at).total_seconds()
    assert oldest - 5 <= backlog["oldest_due_seconds"] <= oldest
    retrying = Delivery.objects.filter(state="pending", attempts__gt=0).count()
    assert backlog["retrying"] == retrying >= 2
