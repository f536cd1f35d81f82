"""Erasure (SPEC §14): after POST /api/v1/privacy/erase/ no click, conversion, install or
log row holds the value — in URLs, bodies, headers or responses — and the audit record
holds none either."""

import json

import pytest
from django.forms.models import model_to_dict

from offers.models import Click, Conversion
from postbacks.models import PostbackLog
from privacy import erasure
from privacy.models import ErasureRecord
from tests.conftest import convert
from tests.delivery.receiver import Answer

pytestmark = pytest.mark.django_db(transaction=True)
GAID = "38400000-8cf0-11bd-b23e-10b96e40000d"
OTHER = "11111111-2222-3333-4444-555555555555"


def holds(value: str) -> list[str]:
    """Every stored row that still holds value anywhere."""
    found = []
    for model in (Click, Conversion, PostbackLog, ErasureRecord):
        for row in model.objects.all():
            if value in json.dumps(model_to_dict(row), default=str):
                found.append(f"{model.__name__} #{row.pk}")
    return found


@pytest.fixture
def traces(client, offer, publisher, advertiser_key, make_config, receiver):
    """A click and an install of the person (GAID), and someone else's click."""
    make_config(
        receiver.url("/pb?gaid={google_aid}&dev={device_id}"),
        method="POST",
        content_type="json",
        body='{"gaid": "{google_aid}"}',
        headers={"X-Device": "{google_aid}"},
    )
    echo = Answer(200, body=f'{{"ok": true, "echo": "{GAID}"}}')
    receiver.answer(echo, Answer(200, body="ok"), echo)  # mine, theirs, the install
    mine = Click.objects.create(offer=offer, publisher=publisher, google_aid=GAID, ip="203.0.113.9")
    theirs = Click.objects.create(offer=offer, publisher=publisher, google_aid=OTHER)
    for click in (mine, theirs):
        convert(client, advertiser_key, transaction_id=click.transaction_id)
    install = {"publisher_name": publisher.name, "campaign_id": offer.pk, "google_aid": GAID}
    response = client.post(
        "/api/v1/custom-postback/",
        install,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {advertiser_key}",
    )
    assert response.status_code in (200, 201), response.content
    receiver.wait_for(3)
    assert holds(GAID)
    return mine, theirs


def erase(client, key, **body):
    return client.post(
        "/api/v1/privacy/erase/",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )


def test_after_erasing_a_google_aid_no_row_holds_it(client, staff_key, traces):
    mine, theirs = traces

    response = erase(client, staff_key, device_ids=[GAID.upper()])  # any case

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["clicks"], body["conversions"], body["logs"]) == (1, 2, 2)
    assert body["in_background"] is False
    assert holds(GAID) == []
    assert Click.objects.get(pk=mine.pk).ip is None
    assert Click.objects.get(pk=theirs.pk).google_aid == OTHER  # someone else's stays
    assert holds(OTHER)
    log = PostbackLog.objects.filter(click__isnull=True, conversion__click=mine).first()
    assert log is not None and "[erased]" in log.url and "[erased]" in log.server_response
    record = ErasureRecord.objects.get()
    assert (record.device_ids, record.clicks, record.logs) == (1, 1, 2)
    assert record.finished is not None


def test_a_large_erasure_runs_in_the_worker(client, staff_key, traces, monkeypatch):
    monkeypatch.setattr(erasure, "ERASE_INLINE_LIMIT", 0)

    body = erase(client, staff_key, device_ids=[GAID]).json()

    assert body["in_background"] is True
    assert holds(GAID) == []  # the test worker runs tasks at once


def test_an_advertiser_erases_only_its_own_data(client, outsider_key, traces):
    body = erase(client, outsider_key, device_ids=[GAID]).json()

    assert (body["clicks"], body["conversions"], body["logs"]) == (0, 0, 0)
    assert holds(GAID)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "device_ids"),
        ({"device_ids": []}, "device_ids"),
        ({"device_ids": [""]}, "device_ids.0"),
        ({"user_ids": "abc"}, "user_ids"),
        ({"device_ids": ["x"] * 1001}, "device_ids"),
    ],
)
def test_bad_requests_are_a_400_naming_the_field(client, staff_key, body, field):
    response = erase(client, staff_key, **body)

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not ErasureRecord.objects.exists()


def test_user_ids_are_erased_too(client, staff_key, offer, publisher):
    click = Click.objects.create(offer=offer, publisher=publisher, user_id="user-42")

    body = erase(client, staff_key, user_ids=["user-42"]).json()

    assert body["clicks"] == 1
    assert Click.objects.get(pk=click.pk).user_id == ""
