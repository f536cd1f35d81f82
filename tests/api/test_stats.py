"""GET /api/v1/stats/: the §11 figures, scoped to the caller, and 400 for bad parameters."""

from datetime import timedelta

import pytest
from django.utils import timezone

from postbacks import rollups
from postbacks.models import Delivery, PostbackConfig
from postbacks.rollups import bucket_start
from tests.api.conftest import errors
from tests.conftest import convert
from tests.delivery.receiver import Answer

EMPTY_BACKLOG = {"due": 0, "oldest_due_seconds": None, "retrying": 0}


def test_it_answers_the_shape_with_defaults(api, staff_key):
    response = api.get("stats/", staff_key)

    assert response.status_code == 200
    body = response.json()
    assert (body["window"], body["by"], body["groups"]) == ("24h", "publisher", [])
    assert body["backlog"] == EMPTY_BACKLOG
    assert len(body["series"]) == 25  # hourly, from the bucket 24 h ago to now
    assert body["series"][-1] | {"start": None} == {"start": None, "succeeded": 0, "failed": 0}


@pytest.mark.parametrize(("window", "points"), [("1h", 13), ("7d", 29), ("30d", 31)])
def test_each_window_has_its_interval(api, staff_key, window, points):
    body = api.get("stats/", staff_key, {"window": window, "by": "offer"}).json()

    assert (body["window"], body["by"], len(body["series"])) == (window, "offer", points)


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"window": "2h"}, "window"),
        ({"window": "24H"}, "window"),
        ({"by": "advertiser"}, "by"),
        ({"since": "2026-01-01"}, "since"),
        ({"format": "xml"}, "format"),
    ],
)
def test_bad_parameters_answer_400_naming_them(api, staff_key, params, name):
    response = api.get("stats/", staff_key, params)

    assert response.status_code == 400
    assert list(errors(response)) == [name]


def test_an_empty_parameter_means_its_default(api, staff_key):
    body = api.get("stats/", staff_key, {"window": "", "by": ""}).json()

    assert (body["window"], body["by"]) == ("24h", "publisher")


def test_it_needs_a_key(api, advertiser):
    assert api.get("stats/").status_code == 401


def test_it_is_listed_at_the_root(api):
    assert api.get("").json()["stats"].endswith("/api/v1/stats/")


@pytest.mark.django_db(transaction=True)
def test_an_advertiser_sees_only_its_own_offers(
    api, client, click, foreign_click, advertiser_key, outsider_key, staff_key, receiver
):
    PostbackConfig.objects.create(
        name="All offers", publisher=click.publisher, url=receiver.url("/pb"), timeout_seconds=3
    )
    receiver.default = Answer(500)
    convert(client, advertiser_key, transaction_id=click.transaction_id)
    convert(client, outsider_key, transaction_id=foreign_click.transaction_id)
    foreign = Delivery.objects.get(conversion__offer=foreign_click.offer)
    Delivery.objects.filter(pk=foreign.pk).update(next_attempt_at=timezone.now() - timedelta(1))

    own = api.get("stats/", advertiser_key, {"by": "offer"}).json()
    everyone = api.get("stats/", staff_key, {"by": "offer"}).json()

    assert [group["id"] for group in own["groups"]] == [click.offer_id]
    assert own["groups"][0]["name"] == "Acme Install"
    assert own["groups"][0]["failures"]["5xx"] == 1
    assert own["backlog"] == {"due": 0, "oldest_due_seconds": None, "retrying": 1}
    assert sum(point["failed"] for point in own["series"]) == 1
    assert {group["id"] for group in everyone["groups"]} == {click.offer_id, foreign_click.offer_id}
    assert everyone["backlog"]["due"] == 1
    assert everyone["backlog"]["retrying"] == 2
    outsider = api.get("stats/", outsider_key, {"by": "publisher"}).json()
    assert [group["attempts"] for group in outsider["groups"]] == [1]


def test_a_deleted_config_keeps_its_figures_without_a_name(api, staff_key, publisher, offer):
    # Through the writer, so the coarse rows exist too: a window ending on the hour reads
    # its last hour from them (created by hand, the row went missing at hh:55–hh:00).
    rollups._upsert(
        {
            (bucket_start(timezone.now()), 999, offer.pk): {
                "publisher_id": publisher.pk,
                "attempts": 3,
                "succeeded": 1,
                "failed_5xx": 2,
                "first_attempts": 3,
                "first_attempt_successes": 1,
                "latency_le_100": 2,
                "latency_le_250": 1,
            }
        }
    )

    body = api.get("stats/", staff_key, {"by": "config"}).json()

    group = body["groups"][0]
    assert (group["id"], group["name"], group["attempts"]) == (999, None, 3)
    assert group["first_attempt_success_rate"] == pytest.approx(1 / 3)
    assert group["success_rate"] is None  # no delivery finished
    assert group["latency_ms"] == {"p50": 100, "p95": 250}
    assert group["conversion_to_success_ms"] == {"p50": None, "p95": None}
    assert body["series"][-1]["succeeded"] + body["series"][-1]["failed"] == 3


def test_a_non_staff_login_is_refused(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("someone", password="pw"))

    assert client.get("/api/v1/stats/").status_code == 403
