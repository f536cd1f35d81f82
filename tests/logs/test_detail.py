"""/logs/<id>/: one attempt in full, its delivery's other attempts, and re-fire."""

import pytest

from postbacks.models import PostbackLog
from tests.conftest import convert


@pytest.mark.django_db
def test_shows_the_attempt_in_full(ops_client, make_log):
    body = "<html>" + "é" * 70000 + "</html>"
    log = make_log(
        status="failed",
        url="https://pub.example/pb?tid=t-1&goal=install",
        method="POST",
        request_headers={"content-type": "application/json", "webhook-id": "msg_abc"},
        request_body='{"tid": "t-1"}',
        response_code=500,
        error="HTTP 500",
        server_response=body,
        webhook_id="msg_abc",
        trigger="retry",
        attempt=3,
        duration_ms=1234,
    )
    response = ops_client.get(f"/logs/{log.id}/")
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "https://pub.example/pb?tid=t-1&amp;goal=install",
        "<code>POST</code>",
        "content-type",
        "application/json",
        "{&quot;tid&quot;: &quot;t-1&quot;}",
        "HTTP 500",
        "msg_abc",
        "Retry",
        "1234 ms",
        '<span class="badge badge-failed" id="status">Failed</span>',
    ):
        assert text in html, text
    assert "é" * 70000 in html  # the whole stored response, not a preview


@pytest.mark.django_db
def test_unknown_id_is_404(ops_client):
    assert ops_client.get("/logs/999999/").status_code == 404


@pytest.mark.django_db
def test_attempt_without_delivery_cannot_be_refired(ops_client, make_log):
    log = make_log(trigger="test")
    html = ops_client.get(f"/logs/{log.id}/").content.decode()
    assert 'id="refire"' not in html
    response = ops_client.post(f"/logs/{log.id}/refire/", follow=True)
    assert response.status_code == 200
    assert "cannot be re-fired" in response.content.decode()
    assert PostbackLog.objects.count() == 1


@pytest.mark.django_db
def test_refire_needs_post(ops_client, make_log):
    assert ops_client.get(f"/logs/{make_log().id}/refire/").status_code == 405


@pytest.mark.django_db(transaction=True)
def test_refire_button_fires_again_through_a_loopback_receiver(
    client, ops_client, click, advertiser_key, make_config, httpserver
):
    config = make_config(httpserver.url_for("/pb") + "?tid={transaction_id}")
    httpserver.expect_request("/pb").respond_with_data("down", status=404)
    assert convert(client, advertiser_key, transaction_id=click.transaction_id).status_code == 200
    first = PostbackLog.objects.get()
    assert (first.status, first.response_code, first.trigger) == ("failed", 404, "automatic")

    detail = ops_client.get(f"/logs/{first.id}/").content.decode()
    assert 'id="refire"' in detail
    assert f'href="/admin/offers/conversion/{first.conversion_id}/change/"' in detail

    httpserver.clear()
    httpserver.expect_request("/pb").respond_with_data("fixed, thanks")
    response = ops_client.post(f"/logs/{first.id}/refire/", follow=True)

    assert response.redirect_chain == [(f"/logs/{first.id}/", 302)]
    html = response.content.decode()
    assert "Re-fire queued" in html
    request, _ = httpserver.log[0]
    assert request.args["tid"] == click.transaction_id
    second = PostbackLog.objects.exclude(pk=first.pk).get()
    assert (second.status, second.response_code, second.trigger) == ("success", 200, "refire")
    assert second.delivery_id == first.delivery_id and second.config_id == config.id
    assert second.server_response == "fixed, thanks"
    # The page lists both attempts of the delivery, linking to the other one.
    assert f'<a href="/logs/{second.id}/">' in html


@pytest.mark.django_db(transaction=True)
def test_refire_of_a_disabled_config_says_why(
    client, ops_client, click, advertiser_key, make_config, httpserver
):
    config = make_config(httpserver.url_for("/pb"), name="Broken pub")
    httpserver.expect_request("/pb").respond_with_data("no", status=400)
    convert(client, advertiser_key, transaction_id=click.transaction_id)
    log = PostbackLog.objects.get()
    config.enabled = False
    config.save()
    response = ops_client.post(f"/logs/{log.id}/refire/", follow=True)
    assert "is disabled" in response.content.decode()
    assert PostbackLog.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_links_to_the_click_of_a_click_postback(
    client, ops_client, offer, publisher, make_config, httpserver
):
    make_config(httpserver.url_for("/click"), postback_type="click")
    httpserver.expect_request("/click").respond_with_data("OK")
    client.get(f"/click/{offer.pk}/{publisher.pk}/")
    log = PostbackLog.objects.get()
    html = ops_client.get(f"/logs/{log.id}/").content.decode()
    assert f'href="/admin/offers/click/{log.click_id}/change/"' in html
