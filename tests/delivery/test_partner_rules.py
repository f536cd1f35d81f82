"""Partner rules (SPEC §12): the accept window, success rules, extra headers with masked
credentials, event names and the config's version — through real loopback receivers."""

import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from offers.models import Click
from postbacks import rollups, rules
from postbacks.models import (
    AttemptRollup,
    Delivery,
    DeliveryState,
    LogStatus,
    PostbackConfig,
    PostbackLog,
)
from postbacks.services import refire_delivery, send_test
from tests.conftest import convert
from tests.delivery.conftest import fire_due_now
from tests.delivery.receiver import Answer

pytestmark = pytest.mark.django_db(transaction=True)


def clicked_hours_ago(click: Click, hours: float) -> None:
    Click.objects.filter(pk=click.pk).update(created=timezone.now() - timedelta(hours=hours))


# The accept window.


def test_a_conversion_25_hours_after_the_click_is_skipped_and_never_sent(
    client, click, advertiser_key, make_config, receiver
):
    make_config(receiver.url("/pb?t={transaction_id}"), accept_window_hours=24)
    clicked_hours_ago(click, 25)

    convert(client, advertiser_key, transaction_id=click.transaction_id)
    fire_due_now()  # nothing is left to retry

    assert receiver.requests == []
    log = PostbackLog.objects.get()
    assert log.status == LogStatus.SKIPPED
    assert log.error == "Late: 25 h after the click; the publisher accepts 24 h"
    assert (log.response_code, log.url) == (0, receiver.url(f"/pb?t={click.transaction_id}"))
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts) == (DeliveryState.SKIPPED, 1)
    counted = AttemptRollup.objects.get()
    assert (counted.attempts, counted.skipped, counted.first_attempts) == (1, 1, 0)


def test_23_hours_after_the_click_is_sent(client, click, advertiser_key, make_config, receiver):
    make_config(receiver.url("/pb"), accept_window_hours=24)
    clicked_hours_ago(click, 23)

    convert(client, advertiser_key, transaction_id=click.transaction_id)

    receiver.wait_for(1)
    assert PostbackLog.objects.get().status == LogStatus.SUCCESS


def test_a_retry_that_would_come_too_late_is_skipped(
    client, click, advertiser_key, make_config, receiver
):
    config = make_config(receiver.url("/pb"), accept_window_hours=2)
    clicked_hours_ago(click, 1)
    receiver.answer(Answer(503))
    convert(client, advertiser_key, transaction_id=click.transaction_id)
    receiver.wait_for(1)
    clicked_hours_ago(click, 3)  # the retry comes after the window closed

    fire_due_now()

    assert len(receiver.requests) == 1
    statuses = list(PostbackLog.objects.order_by("id").values_list("status", "error"))
    assert statuses == [
        (LogStatus.FAILED, "HTTP 503"),
        (LogStatus.SKIPPED, "Late: 3 h after the click; the publisher accepts 2 h"),
    ]
    assert Delivery.objects.get().state == DeliveryState.SKIPPED
    config.refresh_from_db()
    assert config.consecutive_failures == 0  # a late postback is not the endpoint's fault


def test_a_skipped_delivery_is_sent_when_re_fired_after_the_window_is_widened(
    client, click, advertiser_key, make_config, receiver
):
    config = make_config(receiver.url("/pb"), accept_window_hours=24)
    clicked_hours_ago(click, 30)
    convert(client, advertiser_key, transaction_id=click.transaction_id)
    config.accept_window_hours = 48
    config.save()

    assert refire_delivery(Delivery.objects.get())
    fire_due_now()

    receiver.wait_for(1)
    assert Delivery.objects.get().state == DeliveryState.SUCCEEDED


@pytest.mark.parametrize(
    ("hours", "text"),
    [(25, "25 h"), (26.5, "26 h"), (3.25, "3.2 h"), (2, "2 h")],
)
def test_lateness_reads_in_hours(hours, text):
    now = timezone.now()
    reason = rules.late(now - timedelta(hours=hours), "click", now, 1)
    assert reason == f"Late: {text} after the click; the publisher accepts 1 h"


# Success rules.


@pytest.mark.parametrize(
    ("rule", "body", "error"),
    [
        ({"kind": "contains", "text": "OK"}, "OK", ""),
        (
            {"kind": "contains", "text": "OK"},
            "FAIL",
            "Rejected by publisher: the answer does not contain 'OK'",
        ),
        ({"kind": "not_contains", "text": "error"}, "fine", ""),
        (
            {"kind": "not_contains", "text": "duplicate"},
            '{"success": false, "error": "duplicate"}',
            "Rejected by publisher: the answer contains 'duplicate'",
        ),
        (
            {"kind": "json_equals", "field": "data.status", "value": "ok"},
            '{"data": {"status": "ok"}}',
            "",
        ),
        (
            {"kind": "json_equals", "field": "success", "value": True},
            '{"success": false, "error": "duplicate"}',
            "Rejected by publisher: success is false, not true",
        ),
        (
            {"kind": "json_equals", "field": "status", "value": "ok"},
            "<html>OK</html>",
            'Rejected by publisher: the answer is not JSON, so status = "ok" cannot hold',
        ),
        (
            {"kind": "json_equals", "field": "status", "value": "ok"},
            '{"result": "ok"}',
            "Rejected by publisher: the answer has no field 'status' (wanted \"ok\")",
        ),
        (
            {"kind": "json_equals", "field": "code", "value": 1},
            '{"code": true}',
            "Rejected by publisher: code is true, not 1",
        ),
    ],
)
def test_a_2xx_counts_only_when_its_body_keeps_the_rule(
    client, click, advertiser_key, make_config, receiver, rule, body, error
):
    make_config(receiver.url("/pb"), success_rule=rule)
    receiver.answer(Answer(200, body=body))

    convert(client, advertiser_key, transaction_id=click.transaction_id)
    receiver.wait_for(1)
    fire_due_now()  # a rejection is not retried

    log = PostbackLog.objects.get()
    assert (log.status, log.error, log.response_code) == (
        LogStatus.SUCCESS if not error else LogStatus.FAILED,
        error,
        200,
    )
    assert len(receiver.requests) == 1
    state = Delivery.objects.get().state
    assert state == (DeliveryState.FAILED if error else DeliveryState.SUCCEEDED)
    assert AttemptRollup.objects.get().rejected == (1 if error else 0)


def test_a_rule_never_turns_a_failure_into_a_success(
    client, click, advertiser_key, make_config, receiver
):
    make_config(receiver.url("/pb"), success_rule={"kind": "not_contains", "text": "x"})
    receiver.answer(Answer(500, body="ok"))

    convert(client, advertiser_key, transaction_id=click.transaction_id)
    receiver.wait_for(1)

    assert PostbackLog.objects.get().error == "HTTP 500"
    assert Delivery.objects.get().state == DeliveryState.PENDING  # retried as a 5xx


def test_send_test_applies_the_rule(make_config, receiver):
    config = make_config(receiver.url("/pb"), success_rule={"kind": "contains", "text": "OK"})
    receiver.answer(Answer(200, body="nope"))

    log = send_test(config)

    assert log.status == LogStatus.FAILED
    assert log.error.startswith("Rejected by publisher:")


@pytest.mark.parametrize(
    "rule",
    [
        {"kind": "regex", "text": "x"},
        {"kind": "contains"},
        {"kind": "contains", "text": ""},
        {"kind": "json_equals", "field": "status"},
        {"kind": "json_equals", "field": "a..b", "value": 1},
        {"kind": "contains", "text": "x", "field": "y"},
        "OK",
    ],
)
def test_a_malformed_rule_is_refused_when_saved(rule):
    with pytest.raises(ValidationError):
        rules.validate_success_rule(rule)


# Headers and credentials.


def test_a_credential_header_is_sent_for_real_and_shown_masked(
    client, click, advertiser_key, make_config, receiver, ops_client
):
    make_config(
        receiver.url("/pb"),
        headers={
            "Authorization": "Bearer s3cr3t-{offer_id}",
            "X-Partner": "integr8-{publisher_id}",
        },
    )

    convert(client, advertiser_key, transaction_id=click.transaction_id)

    request = receiver.wait_for(1)[0]
    assert request.header("Authorization") == f"Bearer s3cr3t-{click.offer_id}"
    assert request.header("X-Partner") == f"integr8-{click.publisher_id}"
    log = PostbackLog.objects.get()
    assert log.request_headers["Authorization"] == "****"
    assert log.request_headers["X-Partner"] == f"integr8-{click.publisher_id}"
    page = ops_client.get(f"/logs/{log.pk}/").content.decode()
    assert "s3cr3t" not in page and "****" in page
    csv = b"".join(ops_client.get("/logs/export.csv").streaming_content).decode()
    assert "s3cr3t" not in csv and click.transaction_id in csv


def test_the_api_masks_credential_headers_and_keeps_them_when_sent_back(
    client, staff_key, make_config
):
    config = make_config(
        "http://127.0.0.1:9/pb", headers={"X-Api-Key": "k-123", "X-Partner": "integr8"}
    )
    auth = {"HTTP_AUTHORIZATION": f"Bearer {staff_key}"}
    path = f"/api/v1/postback-configs/{config.pk}/"

    shown = client.get(path, **auth).json()
    assert shown["headers"] == {"X-Api-Key": "****", "X-Partner": "integr8"}
    changed = {"X-Api-Key": "****", "X-Partner": "integr8-2"}
    response = client.patch(path, {"headers": changed}, content_type="application/json", **auth)

    assert response.status_code == 200, response.content
    config.refresh_from_db()
    assert config.headers == {"X-Api-Key": "k-123", "X-Partner": "integr8-2"}
    assert "k-123" not in json.dumps(list(config.versions.values_list("changes", flat=True)))


@pytest.mark.parametrize(
    ("headers", "words"),
    [
        ({"Bad Name": "x"}, "not a header name"),
        ({"Content-Type": "text/plain"}, "set by Integr8"),
        ({"webhook-signature": "x"}, "set by Integr8"),
        ({"X-A": "line\r\nX-Injected: 1"}, "line break"),
        ({"X-A": "{nope}"}, "Unknown macro"),
        ({"X-A": 1}, "must be text"),
        (["X-A"], "object"),
    ],
)
def test_bad_headers_are_a_400_naming_the_problem(client, staff_key, make_config, headers, words):
    config = make_config("http://127.0.0.1:9/pb")
    response = client.patch(
        f"/api/v1/postback-configs/{config.pk}/",
        {"headers": headers},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {staff_key}",
    )

    assert response.status_code == 400
    assert words in json.dumps(response.json()["errors"]["headers"])


def test_a_macro_value_cannot_start_another_header():
    rendered = rules.rendered_headers({"X-Sub": "{sub1}"}, {"sub1": "a\r\nX-Evil: 1"})
    assert rendered == {"X-Sub": "a  X-Evil: 1"}


# Event names and versions.


def test_event_names_map_ours_to_the_publishers(
    client, click, advertiser_key, make_config, receiver, purchase
):
    make_config(
        receiver.url("/pb?e={event_name}"),
        postback_type="event",
        event_names={purchase.name: "af_purchase"},
    )

    convert(client, advertiser_key, transaction_id=click.transaction_id, event=purchase.name)

    assert receiver.wait_for(1)[0].path == "/pb?e=af_purchase"


def test_each_change_of_what_is_sent_is_a_new_version_in_the_history(
    client, click, advertiser_key, make_config, receiver
):
    config = make_config(receiver.url("/pb"), secret="")
    assert config.version == 1
    config.name = "Renamed"  # not sent: no new version
    config.save()
    config.url = receiver.url("/pb2")
    config.headers = {"X-Token": "t-1"}
    config.save()

    assert config.version == 2
    change = config.versions.get()
    assert change.version == 2
    assert change.changes == {
        "url": [receiver.url("/pb"), receiver.url("/pb2")],
        "headers": [{}, {"X-Token": "****"}],
    }
    convert(client, advertiser_key, transaction_id=click.transaction_id)
    receiver.wait_for(1)
    assert PostbackLog.objects.get().config_version == 2


def test_saving_only_the_enabled_flag_writes_no_version(make_config):
    config = make_config("http://127.0.0.1:9/pb")
    config.enabled = False
    config.save(update_fields=["enabled", "updated"])

    assert PostbackConfig.objects.get().version == 1


def test_skipped_and_rejected_attempts_have_their_own_class():
    from postbacks.transport import Outcome

    assert rollups.outcome_class(Outcome(url="", error="Late: x", skipped=True)) == "skipped"
    rejected = Outcome(url="", response_code=200, error=rules.REJECTED + "the answer …")
    assert rollups.outcome_class(rejected) == "rejected"


def test_an_advertiser_never_sees_the_credential_either(
    client, click, advertiser_key, make_config, receiver
):
    make_config(receiver.url("/pb"), headers={"X-Auth-Token": "tok-s3cr3t"})
    convert(client, advertiser_key, transaction_id=click.transaction_id)
    receiver.wait_for(1)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {advertiser_key}"}

    answer = client.get("/api/v1/postback-logs/", **auth)
    exported = client.get("/api/v1/postback-logs/?format=csv&columns=id,request_body", **auth)

    assert answer.status_code == 200 and answer.json()["results"]
    assert "tok-s3cr3t" not in answer.content.decode()
    assert "tok-s3cr3t" not in b"".join(exported.streaming_content).decode()


def test_skipped_is_a_status_in_the_api_schema(client, db):
    schema = client.get("/api/v1/schema/?format=json").json()
    enums = [
        component["enum"]
        for component in schema["components"]["schemas"].values()
        if "enum" in component
    ]
    assert ["success", "failed", "skipped"] in enums


def test_the_send_test_page_shows_credentials_masked(admin_client, make_config, receiver):
    config = make_config(receiver.url("/pb"), headers={"Authorization": "Bearer s3cr3t"})
    path = f"/admin/postbacks/postbackconfig/{config.pk}/send-test/"

    shown = admin_client.get(path).content.decode()
    sent = admin_client.post(path).content.decode()

    assert "Authorization" in shown and "****" in shown
    assert "s3cr3t" not in shown and "s3cr3t" not in sent
    assert receiver.wait_for(1)[0].header("Authorization") == "Bearer s3cr3t"


def test_secret_url_parameters_are_sent_for_real_and_stored_masked(
    client, click, advertiser_key, make_config, receiver
):
    make_config(
        receiver.url("/pb?t={transaction_id}&Token=abc123&key=k9&keep=1#x"),
        secret_parameters=["token", "KEY"],
    )

    convert(client, advertiser_key, transaction_id=click.transaction_id)

    assert (
        receiver.wait_for(1)[0].path == f"/pb?t={click.transaction_id}&Token=abc123&key=k9&keep=1"
    )
    log = PostbackLog.objects.get()
    assert log.url == receiver.url(f"/pb?t={click.transaction_id}&Token=****&key=****&keep=1#x")
    answer = client.get("/api/v1/postback-logs/", HTTP_AUTHORIZATION=f"Bearer {advertiser_key}")
    assert "abc123" not in answer.content.decode() and "k9" not in answer.content.decode()


@pytest.mark.parametrize(
    ("url", "names", "masked"),
    [
        ("https://p.example/a?token=1&x=2", ["token"], "https://p.example/a?token=****&x=2"),
        ("https://p.example/a?x=2", ["token"], "https://p.example/a?x=2"),
        ("https://p.example/a", ["token"], "https://p.example/a"),
        ("https://p.example/a?to%6Ben=1", ["token"], "https://p.example/a?to%6Ben=****"),
        ("https://p.example/a?token", ["token"], "https://p.example/a?token"),
    ],
)
def test_masked_urls(url, names, masked):
    assert rules.masked_url(url, names) == masked


def test_the_history_masks_secret_url_parameters(make_config):
    config = make_config("https://p.example/a?token=old", secret_parameters=["token"])
    config.url = "https://p.example/b?token=new"
    config.save()

    assert config.versions.get().changes["url"] == [
        "https://p.example/a?token=****",
        "https://p.example/b?token=****",
    ]
