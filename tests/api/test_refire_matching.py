"""POST /api/v1/postback-logs/refire/?<filters>: re-open the deliveries behind log rows."""

import pytest

from postbacks.dispatch import run_dispatcher
from postbacks.models import Delivery, Dispatcher, PostbackLog
from tests.api.conftest import errors
from tests.refire_data import delivered, quiet_doorbell

pytestmark = pytest.mark.django_db(transaction=True)

PATH = "postback-logs/refire/"


@pytest.fixture
def flaky(make_config, receiver):
    """The publisher endpoint that failed, answering 200 again (the Receiver's default)."""
    return make_config(receiver.url("/pb?t={transaction_id}"), name="Flaky", postback_type="click")


def states(deliveries) -> set[str]:
    return set(
        Delivery.objects.filter(pk__in=[d.pk for d in deliveries]).values_list("state", flat=True)
    )


def test_a_thousand_failed_deliveries_are_each_sent_once_more(
    api, staff_key, flaky, click, receiver
):
    deliveries = delivered(flaky, click, 1000)  # two failed attempts each
    quiet = quiet_doorbell()

    response = api.post(PATH + "?status=failed&postback_name=Flaky", staff_key)

    assert response.status_code == 202, response.content
    assert response.json() == {"deliveries": 1000}
    assert states(deliveries) == {"pending"}
    quiet.delete()
    run_dispatcher()
    requests = receiver.wait_for(1000)
    assert len(requests) == 1000
    assert {r.header("webhook-id") for r in requests} == {d.webhook_id for d in deliveries}
    refired = PostbackLog.objects.filter(trigger="refire")
    assert refired.count() == 1000
    assert set(refired.values_list("status", "attempt")) == {("success", 3)}
    assert states(deliveries) == {"succeeded"}


def test_succeeded_deliveries_are_left_alone_unless_included(api, staff_key, flaky, click):
    failed = delivered(flaky, click, 3)
    succeeded = delivered(flaky, click, 2, state="succeeded")
    quiet_doorbell()

    assert api.post(PATH + "?postback_name=Flaky", staff_key).json() == {"deliveries": 3}
    assert states(succeeded) == {"succeeded"}

    response = api.post(PATH + "?postback_name=Flaky", staff_key, {"include_succeeded": True})
    assert response.json() == {"deliveries": 5}
    assert states(failed + succeeded) == {"pending"}


def test_deliveries_of_disabled_configs_are_skipped(api, staff_key, flaky, click, make_config):
    off = make_config("http://127.0.0.1:9/off", name="Off", postback_type="click", enabled=False)
    delivered(flaky, click, 2)
    skipped = delivered(off, click, 2)
    quiet_doorbell()

    assert api.post(PATH + "?status=failed", staff_key).json() == {"deliveries": 2}
    assert states(skipped) == {"failed"}


def test_an_advertisers_filter_never_reaches_another_advertisers_deliveries(
    api, advertiser_key, flaky, click, foreign_click
):
    own = delivered(flaky, click, 3)
    foreign = delivered(flaky, foreign_click, 4)
    quiet_doorbell()

    response = api.post(PATH + "?status=failed", advertiser_key)

    assert response.json() == {"deliveries": 3}
    assert states(own) == {"pending"}
    assert states(foreign) == {"failed"}
    other = api.post(PATH + f"?offer_id={foreign_click.offer_id}", advertiser_key)
    assert other.json() == {"deliveries": 0}


def test_above_the_limit_nothing_is_reopened(api, staff_key, flaky, click, settings):
    settings.REFIRE_MATCHING_LIMIT = 5
    deliveries = delivered(flaky, click, 6)
    quiet_doorbell()

    response = api.post(PATH + "?status=failed", staff_key)

    assert response.status_code == 400
    (message,) = errors(response)["filters"]
    assert "At least 6 deliveries" in message and "at most 5" in message
    assert states(deliveries) == {"failed"}
    Delivery.objects.filter(pk=deliveries[0].pk).update(state="succeeded")
    assert api.post(PATH + "?status=failed", staff_key).json() == {"deliveries": 5}


def test_bad_filters_and_bodies_answer_400(api, staff_key, flaky, click):
    delivered(flaky, click, 1)

    bad_filter = api.post(PATH + "?status=maybe&colour=red", staff_key)
    bad_body = api.post(PATH + "?status=failed", staff_key, {"include_succeeded": "perhaps"})

    assert bad_filter.status_code == bad_body.status_code == 400
    assert set(errors(bad_filter)) == {"status", "colour"}
    assert set(errors(bad_body)) == {"include_succeeded"}
    assert Delivery.objects.get().state == "failed"


def test_keys_are_required(api, flaky, click):
    delivered(flaky, click, 1)
    assert api.post(PATH + "?status=failed").status_code == 401
    assert Delivery.objects.get().state == "failed"


def test_the_schema_describes_the_call(client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/v1/postback-logs/refire/"]["post"]
    assert {"202", "400"} <= set(operation["responses"])
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"status", "trigger__not", "created_after"} <= names and "format" not in names
    assert "100,000" in operation["description"]


def test_the_doorbell_rings_once_they_are_reopened(api, staff_key, flaky, click, receiver):
    """Nothing holds the doorbell: the re-fire rings it and (tasks inline) they fire."""
    deliveries = delivered(flaky, click, 3)

    assert api.post(PATH + "?status=failed", staff_key).json() == {"deliveries": 3}

    assert len(receiver.wait_for(3)) == 3
    assert states(deliveries) == {"succeeded"}
    assert not Dispatcher.objects.exists()  # the dispatcher ran and signed off
