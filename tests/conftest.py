"""Shared fixtures: an ops user, two advertisers (one an outsider), and loopback receivers."""

import ipaddress
import socket
from decimal import Decimal

import pytest
from django.test import Client

from offers import lookups
from offers.models import Advertiser, ApiKey, Click, Offer, OfferEvent, Publisher
from postbacks.models import PostbackConfig
from tests.delivery.receiver import Receiver

# ours / theirs / crossed and the portal users' clients, for tests/portal and tests/browser.
pytest_plugins = ["tests.portal.world"]


@pytest.fixture(autouse=True, scope="session")
def _no_dns_queries():
    """Tests never resolve a real name: any host but `localhost` (from /etc/hosts), an IP
    literal or None fails, as with a dead resolver.

    The transport sees the same socket.gaierror a failing DNS server gives, so the
    "DNS lookup failed for …" path is tested without sending a query anywhere.
    """
    real_getaddrinfo = socket.getaddrinfo

    def needs_no_dns(host) -> bool:
        name = host.decode() if isinstance(host, bytes) else host
        if name is None or name.lower() == "localhost":
            return True
        try:
            ipaddress.ip_address(name.partition("%")[0])  # an IPv6 literal may carry a scope
        except ValueError:
            return False
        return True

    def getaddrinfo(host, *args, **kwargs):
        if needs_no_dns(host):
            return real_getaddrinfo(host, *args, **kwargs)
        raise socket.gaierror(
            socket.EAI_NONAME, f"Tests may not resolve names ({host!r}): use localhost or an IP"
        )

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "getaddrinfo", getaddrinfo)
        yield


@pytest.fixture(autouse=True)
def _fresh_lookup_cache():
    lookups.clear()
    yield
    lookups.clear()


@pytest.fixture
def receiver():
    """A publisher's server on loopback whose answers the test scripts."""
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def advertiser(db):
    return Advertiser.objects.create(name="Acme Games")


@pytest.fixture
def outsider(db):
    return Advertiser.objects.create(name="Other Corp")


@pytest.fixture
def advertiser_key(advertiser):
    return ApiKey.issue(advertiser=advertiser)[1]


@pytest.fixture
def outsider_key(outsider):
    return ApiKey.issue(advertiser=outsider)[1]


@pytest.fixture
def staff_key(db):
    return ApiKey.issue(is_staff=True)[1]


@pytest.fixture
def offer(advertiser):
    return Offer.objects.create(
        advertiser=advertiser,
        name="Acme Install",
        destination_url="https://store.example/app?cid={click_id}&s1={sub1}",
        revenue=Decimal("2.50"),
        payout=Decimal("1.75"),
        currency="USD",
    )


@pytest.fixture
def purchase(offer):
    return OfferEvent.objects.create(
        offer=offer, name="purchase", revenue=Decimal("10"), payout=Decimal("4")
    )


@pytest.fixture
def publisher(db):
    return Publisher.objects.create(name="Traffic Co")


@pytest.fixture
def click(offer, publisher):
    return Click.objects.create(offer=offer, publisher=publisher, sub1="s1", google_aid="gaid-1")


@pytest.fixture
def ops_user(django_user_model):
    return django_user_model.objects.create_user("ops", password="pw", is_staff=True)


@pytest.fixture
def ops_client(ops_user):
    client = Client()
    client.force_login(ops_user)
    return client


@pytest.fixture
def make_config(publisher):
    def make(url, **fields):
        fields.setdefault("name", "Publisher postback")
        fields.setdefault("postback_type", "conversion")
        fields.setdefault("timeout_seconds", 3)
        return PostbackConfig.objects.create(
            publisher=fields.pop("publisher", publisher), url=url, **fields
        )

    return make


def convert(client, key, **params):
    """Call /conversion/ the way an advertiser's server does."""
    return client.get("/conversion/", params, HTTP_AUTHORIZATION=f"Bearer {key}")
