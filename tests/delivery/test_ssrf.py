"""The SSRF guard: every request and redirect hop, judged on the address connected to.

Only loopback is ever contacted: 127.0.0.1 is allowed, 127.0.0.2 stands for every
forbidden address; all other ranges are checked with the classifier, without connecting.
"""

import ipaddress

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from logs.models import PostbackLog
from postbacks.addresses import blocked_reason, forbidden_kind
from postbacks.models import Delivery, PostbackConfig
from tests.conftest import convert
from tests.delivery.receiver import Answer

ONLY_127_0_0_1 = override_settings(POSTBACK_ALLOW_NETWORKS=["127.0.0.1/32"])


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "reserved"),
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("10.0.0.5", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "CGNAT"),
        ("100.127.255.255", "CGNAT"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "broadcast"),
        ("192.0.0.8", "reserved"),
        ("192.0.2.1", "reserved"),
        ("198.51.100.7", "reserved"),
        ("203.0.113.9", "reserved"),
        ("198.18.0.1", "reserved"),
        ("::", "unspecified"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("ff02::1", "multicast"),
        ("2001:db8::1", "reserved"),
        ("100::1", "reserved"),
        ("2002:a00:1::1", "reserved"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "link-local"),
        ("64:ff9b::a00:1", "private"),  # NAT64 of 10.0.0.1
    ],
)
def test_forbidden_ranges(address, kind):
    assert forbidden_kind(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8"]
)
def test_public_addresses_pass(address):
    assert forbidden_kind(ipaddress.ip_address(address)) is None


@override_settings(POSTBACK_ALLOW_NETWORKS=[])
def test_blocked_reason_words():
    assert blocked_reason("10.0.0.5") == "Blocked: 10.0.0.5 is a private address"
    assert blocked_reason("::") == "Blocked: :: is an unspecified address"
    assert blocked_reason("127.0.0.1") == "Blocked: 127.0.0.1 is a loopback address"
    assert blocked_reason("8.8.8.8") is None


@ONLY_127_0_0_1
def test_allow_networks_opens_only_what_is_listed():
    assert blocked_reason("127.0.0.1") is None
    assert blocked_reason("127.0.0.2") == "Blocked: 127.0.0.2 is a loopback address"
    assert blocked_reason("::1") == "Blocked: ::1 is a loopback address"
    assert blocked_reason("::ffff:127.0.0.1") is not None  # mapped form is not listed


@pytest.mark.django_db(transaction=True)
@ONLY_127_0_0_1
def test_target_on_a_forbidden_address_is_refused_and_logged(
    client, click, advertiser_key, make_config, make_receiver
):
    forbidden = make_receiver("127.0.0.2")
    make_config(forbidden.url("/pb"))

    convert(client, advertiser_key, transaction_id=click.transaction_id)

    log = PostbackLog.objects.get()
    assert (log.status, log.response_code, log.error) == (
        "failed",
        0,
        "Blocked: 127.0.0.2 is a loopback address",
    )
    assert Delivery.objects.get().state == "failed"  # permanent: not retried
    assert forbidden.requests == []


@pytest.mark.django_db(transaction=True)
@ONLY_127_0_0_1
def test_redirect_to_a_forbidden_address_is_refused(
    client, click, advertiser_key, make_config, receiver, make_receiver
):
    forbidden = make_receiver("127.0.0.2")
    receiver.answer(Answer(302, "", {"Location": forbidden.url("/internal")}))
    make_config(receiver.url("/pb"))

    convert(client, advertiser_key, transaction_id=click.transaction_id)

    log = PostbackLog.objects.get()
    assert (log.status, log.response_code) == ("failed", 0)
    assert log.error == "Blocked: 127.0.0.2 is a loopback address"
    assert log.url == forbidden.url("/internal")
    assert len(receiver.requests) == 1 and forbidden.requests == []


@pytest.mark.django_db(transaction=True)
def test_redirects_are_followed_three_times_then_refused(
    client, click, advertiser_key, make_config, receiver
):
    for hop in range(4):
        receiver.answer(Answer(302, "", {"Location": f"/hop{hop + 1}"}))
    make_config(receiver.url("/pb"))

    convert(client, advertiser_key, transaction_id=click.transaction_id)

    log = PostbackLog.objects.get()
    assert (log.response_code, log.error) == (302, "Too many redirects (more than 3)")
    assert [request.path for request in receiver.requests] == ["/pb", "/hop1", "/hop2", "/hop3"]


@pytest.mark.django_db(transaction=True)
def test_a_followed_redirect_is_logged_with_the_final_url(
    client, click, advertiser_key, make_config, receiver
):
    receiver.answer(Answer(301, "", {"Location": "/moved"}))
    make_config(receiver.url("/pb"))

    convert(client, advertiser_key, transaction_id=click.transaction_id)

    log = PostbackLog.objects.get()
    assert (log.status, log.response_code, log.url) == ("success", 200, receiver.url("/moved"))


@pytest.mark.django_db(transaction=True)
@override_settings(POSTBACK_ALLOW_NETWORKS=[])
def test_a_host_name_is_judged_on_the_address_it_resolves_to(
    client, click, advertiser_key, make_config, receiver
):
    make_config(f"http://localhost:{receiver.port}/pb")

    convert(client, advertiser_key, transaction_id=click.transaction_id)

    log = PostbackLog.objects.get()
    assert log.error.startswith("Blocked: ") and "loopback address" in log.error
    assert receiver.requests == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/pb", "Use an http:// or https:// URL."),
        ("javascript:alert(1)", "Use an http:// or https:// URL."),
        ("example.com/pb", "Use an http:// or https:// URL."),
        ("http:///pb", "The URL has no host."),
        ("http://10.0.0.5/pb?tid={transaction_id}", "10.0.0.5 is a private address"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254 is a link-local address"),
        ("https://[::ffff:192.168.0.1]:8443/pb", "::ffff:c0a8:1 is a private address"),
        ("http://[fd00::1]/pb", "fd00::1 is a private address"),
        ("http://127.0.0.2:8000/pb", "127.0.0.2 is a loopback address"),
    ],
)
@ONLY_127_0_0_1
@pytest.mark.django_db
def test_config_url_is_checked_when_saved(publisher, url, message):
    config = PostbackConfig(name="p", publisher=publisher, url=url)
    with pytest.raises(ValidationError) as error:
        config.full_clean()
    assert message in " ".join(error.value.message_dict["url"])


@pytest.mark.parametrize(
    "url",
    [
        "https://postback.example.com/pb?tid={transaction_id}",
        "http://8.8.8.8/pb",
        "http://127.0.0.1:9/pb",  # allowed by POSTBACK_ALLOW_NETWORKS
        "https://{sub1}.example.com/pb",
    ],
)
@ONLY_127_0_0_1
@pytest.mark.django_db
def test_acceptable_config_urls(publisher, url):
    PostbackConfig(name="p", publisher=publisher, url=url).full_clean()


@pytest.mark.django_db
@ONLY_127_0_0_1
def test_api_refuses_a_forbidden_literal_address(client, staff_key, publisher):
    response = client.post(
        "/api/v1/postback-configs/",
        {"name": "Internal", "publisher": publisher.pk, "url": "http://10.1.2.3/pb"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {staff_key}",
    )

    assert response.status_code == 400
    assert "10.1.2.3 is a private address" in " ".join(response.json()["errors"]["url"])
    assert not PostbackConfig.objects.exists()
