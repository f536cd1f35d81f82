"""The SSRF guard: every request and redirect hop, judged on the address connected to.

Only loopback is ever contacted: 127.0.0.1 is allowed, 127.0.0.2 stands for every
forbidden address; all other ranges are checked with the classifier, without connecting.
No test resolves a name but `localhost` (tests/conftest.py refuses every other name).
"""

import asyncio
import ipaddress
import socket
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from postbacks.addresses import blocked_reason, forbidden_kind, template_target_problem
from postbacks.async_transport import GuardedResolver, guarded_socket
from postbacks.models import Delivery, PostbackConfig, PostbackLog
from postbacks.transport import BlockedAddress, BlockedSocket
from tests.conftest import convert
from tests.delivery.conftest import admin_config_form
from tests.delivery.receiver import Answer

ONLY_127_0_0_1 = override_settings(POSTBACK_ALLOW_NETWORKS=["127.0.0.1/32"])
NOTHING_ALLOWED = override_settings(POSTBACK_ALLOW_NETWORKS=[])


@pytest.fixture(autouse=True, params=["asyncio", "threads"])
def sender(request, settings):
    """Every case on both sending paths: postbacks/async_transport.py (the default) and
    the threaded one of postbacks/transport.py."""
    settings.POSTBACK_SENDER = request.param
    return request.param


# Every entry of the IANA IPv4 Special-Purpose Address Registry that is not globally
# reachable: (range, an address inside it, kind).
IPV4_REGISTRY = [
    ("0.0.0.0/8", "0.1.2.3", "reserved"),  # this network
    ("0.0.0.0/32", "0.0.0.0", "unspecified"),  # this host on this network
    ("10.0.0.0/8", "10.255.255.255", "private"),
    ("100.64.0.0/10", "100.127.255.255", "CGNAT"),  # shared address space
    ("127.0.0.0/8", "127.255.255.254", "loopback"),
    ("169.254.0.0/16", "169.254.169.254", "link-local"),  # cloud metadata
    ("172.16.0.0/12", "172.31.255.255", "private"),
    ("192.0.0.0/24", "192.0.0.255", "reserved"),  # IETF protocol assignments
    ("192.0.0.0/29", "192.0.0.1", "reserved"),  # IPv4 service continuity (DS-Lite)
    ("192.0.0.8/32", "192.0.0.8", "reserved"),  # IPv4 dummy address
    ("192.0.0.170/32", "192.0.0.170", "reserved"),  # NAT64/DNS64 discovery
    ("192.0.0.171/32", "192.0.0.171", "reserved"),  # NAT64/DNS64 discovery
    ("192.0.2.0/24", "192.0.2.1", "reserved"),  # documentation (TEST-NET-1)
    ("192.88.99.0/24", "192.88.99.1", "reserved"),  # deprecated 6to4 relay anycast
    ("192.88.99.2/32", "192.88.99.2", "reserved"),  # 6a44 relay anycast
    ("192.168.0.0/16", "192.168.1.1", "private"),
    ("198.18.0.0/15", "198.19.255.255", "reserved"),  # benchmarking
    ("198.51.100.0/24", "198.51.100.7", "reserved"),  # documentation (TEST-NET-2)
    ("203.0.113.0/24", "203.0.113.9", "reserved"),  # documentation (TEST-NET-3)
    ("240.0.0.0/4", "240.0.0.1", "reserved"),
    ("255.255.255.255/32", "255.255.255.255", "broadcast"),
    # not in that registry, but no postback goes there either
    ("224.0.0.0/4", "224.0.0.1", "multicast"),
    ("224.0.0.0/4", "239.255.255.250", "multicast"),
]

# The same for the IANA IPv6 Special-Purpose Address Registry.
IPV6_REGISTRY = [
    ("::1/128", "::1", "loopback"),
    ("::/128", "::", "unspecified"),
    ("::ffff:0:0/96", "::ffff:10.0.0.1", "private"),  # IPv4-mapped: judged by the IPv4
    ("::ffff:0:0/96", "::ffff:0:0", "unspecified"),
    ("64:ff9b:1::/48", "64:ff9b:1::7f00:1", "loopback"),  # local-use NAT64
    ("100::/64", "100::1", "reserved"),  # discard-only
    ("100:0:0:1::/64", "100:0:0:1::1", "reserved"),  # dummy prefix
    ("2001::/23", "2001:1ff::1", "reserved"),  # IETF protocol assignments
    ("2001::/32", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "reserved"),  # Teredo
    ("2001:2::/48", "2001:2::1", "reserved"),  # benchmarking
    ("2001:10::/28", "2001:10::1", "reserved"),  # deprecated ORCHID
    ("2001:db8::/32", "2001:db8::1", "reserved"),  # documentation
    ("2002::/16", "2002:a00:1::1", "reserved"),  # 6to4
    ("3fff::/20", "3fff:fff:ffff::1", "reserved"),  # documentation, RFC 9637
    ("5f00::/16", "5f00::1", "reserved"),  # SRv6 SIDs, RFC 9602
    ("fc00::/7", "fc00::1", "private"),  # unique local
    ("fc00::/7", "fd12:3456::1", "private"),
    ("fe80::/10", "fe80::1", "link-local"),
    ("fe80::/10", "febf::1", "link-local"),
    # not in that registry, but no postback goes there either
    ("fec0::/10", "fec0::1", "private"),  # deprecated site-local
    ("ff00::/8", "ff02::1", "multicast"),
    ("::/96", "::808:808", "reserved"),  # IPv4-compatible (deprecated)
    ("4000::/3", "4000::1", "reserved"),  # outside global unicast 2000::/3
]

# Registry entries that are globally reachable: public services, allowed.
GLOBALLY_REACHABLE = [
    ("192.31.196.0/24", "192.31.196.1"),  # AS112-v4
    ("192.52.193.0/24", "192.52.193.1"),  # AMT
    ("192.175.48.0/24", "192.175.48.6"),  # direct delegation AS112 service
    ("2001:3::/32", "2001:3::1"),  # AMT
    ("2001:4:112::/48", "2001:4:112::1"),  # AS112-v6
    ("2001:20::/28", "2001:20::1"),  # ORCHIDv2
    ("2001:30::/28", "2001:30::1"),  # DRIP entity tags
    ("2620:4f:8000::/48", "2620:4f:8000::1"),  # direct delegation AS112 service
]

# Globally reachable in the registry, blocked on purpose: these anycast addresses lead
# to a server in our own network (often the router) — see postbacks/addresses.py.
LOCAL_SERVICE_ANYCAST = [
    "192.0.0.9",  # PCP
    "192.0.0.10",  # TURN
    "2001:1::1",  # PCP
    "2001:1::2",  # TURN
    "2001:1::3",  # DNS-SD service registration
]


@pytest.mark.parametrize(("network", "address", "kind"), IPV4_REGISTRY + IPV6_REGISTRY)
@NOTHING_ALLOWED
def test_every_special_purpose_range_is_forbidden(network, address, kind):
    assert ipaddress.ip_address(address) in ipaddress.ip_network(network)
    assert forbidden_kind(ipaddress.ip_address(address)) == kind
    assert blocked_reason(address).endswith(f" {kind} address")


@pytest.mark.parametrize(("network", "address"), GLOBALLY_REACHABLE)
def test_globally_reachable_registry_entries_are_allowed(network, address):
    assert ipaddress.ip_address(address) in ipaddress.ip_network(network)
    assert forbidden_kind(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("address", LOCAL_SERVICE_ANYCAST)
def test_anycast_to_a_local_service_is_forbidden(address):
    assert forbidden_kind(ipaddress.ip_address(address)) == "reserved"


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("::7f00:1", "loopback"),  # IPv4-compatible 127.0.0.1
        ("::a00:1", "private"),  # IPv4-compatible 10.0.0.1
        ("::808:808", "reserved"),  # IPv4-compatible, even for a public address
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "link-local"),
        ("64:ff9b::a00:1", "private"),  # NAT64 of 10.0.0.1
        ("64:ff9b::7f00:1", "loopback"),
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
        ("64:ff9b:1::7f00:1", "loopback"),  # local-use NAT64 of 127.0.0.1
        ("64:ff9b:1::a00:1", "private"),
        ("64:ff9b:1:abcd::c0a8:101", "private"),  # a /96 inside the /48: 192.168.1.1
    ],
)
def test_ipv6_carrying_an_ipv4_address_is_judged_by_it(address, kind):
    assert forbidden_kind(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "1.1.1.1",
        "93.184.216.34",
        "11.0.0.0",  # just past 10/8
        "100.128.0.0",  # just past CGNAT
        "172.32.0.0",  # just past 172.16/12
        "192.0.1.1",  # between 192.0.0/24 and 192.0.2/24
        "198.20.0.0",  # just past benchmarking
        "223.255.255.255",  # just below multicast
        "2606:4700::1",
        "2606:4700:4700::1111",
        "2001:200::1",  # just past 2001::/23
        "3fff:1000::1",  # just past 3fff::/20
        "::ffff:8.8.8.8",  # IPv4-mapped public address
        "64:ff9b::808:808",  # NAT64 of a public address
        "64:ff9b:1::808:808",  # local-use NAT64 of a public address
    ],
)
def test_public_addresses_pass(address):
    assert forbidden_kind(ipaddress.ip_address(address)) is None


@NOTHING_ALLOWED
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
        "https://postback.example.com/{sub1}/pb?t={transaction_id}&h={sub2}:80@x#{sub3}",
        "http://[2606:4700::1]:8443/pb?tid={transaction_id}",
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


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://{sub1}:8205/", "puts {sub1} in the host"),
        ("https://{sub1}.example.com/pb", "puts {sub1} in the host"),
        ("https://pb.{sub2}/pb?t={transaction_id}", "puts {sub2} in the host"),
        ("http://[{sub1}]/pb", "puts {sub1} in the host"),
        ("  http:/\t/{sub1}/pb", "puts {sub1} in the host"),  # urlsplit drops the tab
        ("http://127.0.0.1:{sub1}/pb", "puts {sub1} in the port"),
        ("http://{sub1}@pb.example.com/", "puts {sub1} in the user info"),
        ("http://user:{sub1}@pb.example.com/", "puts {sub1} in the user info"),
        ("{sub1}://pb.example.com/", "puts {sub1} in the scheme"),
        ("http{sub1}://pb.example.com/", "puts {sub1} in the scheme"),
    ],
)
def test_a_macro_in_the_target_is_a_problem(url, words):
    assert template_target_problem(url) == f"Blocked: the URL template {words}"


@pytest.mark.parametrize(
    "url",
    [
        "http://pb.example.com/{sub1}?t={transaction_id}#{sub2}",
        "http://pb.example.com?{sub1}@evil.example:80",  # the query starts at `?`
        "http://pb.example.com#{sub1}",
        "http://127.0.0.1:8205/pb",
    ],
)
def test_macros_after_the_host_are_fine(url):
    assert template_target_problem(url) is None


@pytest.mark.parametrize(
    ("url", "part"),
    [
        ("http://{sub1}:8205/", "host"),
        ("http://127.0.0.1:{sub1}/", "port"),
        ("http://{sub1}@127.0.0.1/", "user info"),
        ("{sub1}://127.0.0.1/", "scheme"),
    ],
)
@pytest.mark.django_db
def test_a_macro_in_the_target_is_refused_when_saved(publisher, url, part):
    config = PostbackConfig(name="p", publisher=publisher, url=url)
    with pytest.raises(ValidationError) as error:
        config.full_clean()
    message = " ".join(error.value.message_dict["url"])
    assert f"The URL template puts {{sub1}} in the {part}: whoever fills it in" in message


@pytest.mark.django_db
def test_api_refuses_a_macro_in_the_host(client, staff_key, publisher):
    response = client.post(
        "/api/v1/postback-configs/",
        {"name": "Chosen by clicker", "publisher": publisher.pk, "url": "http://{sub1}:8205/"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {staff_key}",
    )

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "puts {sub1} in the host" in " ".join(errors["url"])
    assert not PostbackConfig.objects.exists()


@pytest.mark.django_db
def test_admin_refuses_a_macro_in_the_host(admin_client, publisher):
    response = admin_client.post(
        "/admin/postbacks/postbackconfig/add/",
        admin_config_form(publisher, name="Chosen by clicker", url="http://{sub1}:8205/"),
    )

    assert response.status_code == 200
    form_errors = response.context["adminform"].form.errors
    assert "puts {sub1} in the host" in " ".join(form_errors["url"])
    assert not PostbackConfig.objects.exists()


def test_tests_cannot_resolve_names():
    # tests/conftest.py refuses before any query is sent; localhost and literals still work
    with pytest.raises(socket.gaierror, match="Tests may not resolve names"):
        socket.getaddrinfo("example.com", 80)
    assert socket.getaddrinfo("localhost", 80)
    assert socket.getaddrinfo("127.0.0.1", 80)


@pytest.mark.django_db(transaction=True)
def test_a_name_that_does_not_resolve_is_a_dns_failure_and_retried(
    client, click, advertiser_key, make_config
):
    make_config("http://name.invalid/pb")  # resolution fails in tests/conftest.py, locally

    convert(client, advertiser_key, transaction_id=click.transaction_id)

    log = PostbackLog.objects.get()
    assert (log.status, log.response_code, log.error) == (
        "failed",
        0,
        "DNS lookup failed for name.invalid",
    )
    assert Delivery.objects.get().state == "pending"  # DNS may come back: retried


def resolved(host: str, port: int):
    """The guarded resolver's answer, on an event loop of its own thread (a test before
    may have left one running in this thread)."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, GuardedResolver().resolve(host, port)).result()


@ONLY_127_0_0_1
def test_the_asyncio_resolver_keeps_only_allowed_addresses():
    allowed = resolved("localhost", 80)
    assert {result["host"] for result in allowed} == {"127.0.0.1"}  # not ::1
    assert all(result["port"] == 80 for result in allowed)


@NOTHING_ALLOWED
def test_the_asyncio_resolver_refuses_a_name_with_only_forbidden_addresses():
    with pytest.raises(BlockedAddress, match="Blocked: .* is a loopback address"):
        resolved("localhost", 80)


@ONLY_127_0_0_1
def test_the_asyncio_socket_factory_judges_the_address_connected_to():
    tcp = (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "")
    with pytest.raises(BlockedSocket, match="Blocked: 127.0.0.2 is a loopback address"):
        guarded_socket((*tcp, ("127.0.0.2", 80)))
    with guarded_socket((*tcp, ("127.0.0.1", 80))) as allowed:
        assert not allowed.getblocking()
