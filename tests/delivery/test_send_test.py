"""A Send test is logged under the config's own offer, so no advertiser sees another's test."""

from postbacks.services import send_test


def test_send_test_of_an_all_offers_config_belongs_to_no_offer(make_config, httpserver):
    httpserver.expect_request("/t").respond_with_data("ok")
    log = send_test(make_config(httpserver.url_for("/t")))
    assert (log.trigger, log.status, log.offer_id, log.event_id) == ("test", "success", None, None)


def test_send_test_is_seen_by_the_offers_advertiser_only(
    client, offer, outsider, advertiser_key, outsider_key, make_config, httpserver
):
    httpserver.expect_request("/t").respond_with_data("ok")
    other_offer = outsider.offers.create(name="Theirs", destination_url="https://x.example/")
    send_test(make_config(httpserver.url_for("/t"), offer=other_offer))

    def visible(key):
        response = client.get("/api/v1/postback-logs/", HTTP_AUTHORIZATION=f"Bearer {key}")
        return len(response.json()["results"])

    assert (visible(advertiser_key), visible(outsider_key)) == (0, 1)
