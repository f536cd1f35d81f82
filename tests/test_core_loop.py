"""Click → conversion → postback → log, end to end through a loopback receiver."""

from urllib.parse import parse_qs, urlsplit

import pytest

from logs.models import PostbackLog
from offers.models import Click, Conversion
from tests.conftest import convert

# Committed transactions, so deliveries are dispatched after commit as in production.
pytestmark = pytest.mark.django_db(transaction=True)


def test_click_redirects_with_macros_and_records(client, offer, publisher):
    response = client.get(
        f"/click/{offer.pk}/{publisher.pk}/", {"sub1": "a b&c", "google_aid": "g1"}
    )
    assert response.status_code == 302
    click = Click.objects.get()
    assert click.sub1 == "a b&c" and click.google_aid == "g1"
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query == {"cid": [click.transaction_id], "s1": ["a b&c"]}


def test_conversion_fires_postback_with_encoded_macros(
    client, click, advertiser_key, make_config, httpserver
):
    click.sub2 = "x=1#y ünï"
    click.save()
    make_config(
        httpserver.url_for("/pb")
        + "?tid={transaction_id}&s2={sub2}&s3={sub3}&rev={revenue}&st={status}"
    )
    httpserver.expect_request("/pb").respond_with_data("OK")

    response = convert(client, advertiser_key, transaction_id=click.transaction_id)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["duplicate"] is False and body["postbacks_queued"] == 1
    request, _ = httpserver.log[0]
    assert request.args.to_dict() == {
        "tid": click.transaction_id,
        "s2": "x=1#y ünï",
        "s3": "",
        "rev": "2.5",
        "st": "approved",
    }
    log = PostbackLog.objects.get()
    assert (log.status, log.response_code, log.server_response, log.error) == (
        "success",
        200,
        "OK",
        "",
    )
    assert log.transaction_id == click.transaction_id
    assert log.offer_id == click.offer_id and log.publisher_id == click.publisher_id
    assert Conversion.objects.get().pk == body["conversion_id"]
