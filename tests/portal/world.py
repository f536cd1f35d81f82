"""The portal tests' world (a plugin of tests/conftest.py, so the browser tests share it).

Two of everything: "ours" (the portal users' publisher and advertiser) and "theirs".

Every object of theirs carries the word "theirs" (names, transaction IDs, URLs), so a
page or an answer that shows it has leaked it.
"""

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import Membership
from offers.models import Advertiser, Conversion, ConversionStatus, Offer, Publisher
from postbacks.models import Delivery, PostbackConfig, PostbackLog, new_secret

DEAD_URL = "http://127.0.0.1:9/pb"  # loopback, nothing listens: a test fails fast


@dataclass
class Side:
    publisher: Publisher
    advertiser: Advertiser
    offer: Offer
    config: PostbackConfig
    conversion: Conversion
    delivery: Delivery
    log: PostbackLog


def _side(word: str) -> Side:
    publisher = Publisher.objects.create(name=f"{word} publisher")
    advertiser = Advertiser.objects.create(name=f"{word} advertiser")
    offer = Offer.objects.create(
        advertiser=advertiser, name=f"{word} offer", destination_url="https://store.example/"
    )
    config = PostbackConfig.objects.create(
        name=f"{word} config",
        publisher=publisher,
        postback_type="conversion",
        url=f"{DEAD_URL}?tid={{transaction_id}}&who={word}&token=sekret-{word}",
        secret_parameters=["token"],
        headers={"Authorization": f"Bearer hdr-{word}", "X-Source": word},
        secret=new_secret(),
        timeout_seconds=2,
        max_attempts=1,
    )
    conversion = Conversion.objects.create(
        transaction_id=f"tid-{word}",
        offer=offer,
        publisher=publisher,
        status=ConversionStatus.PENDING,
        revenue=Decimal("2"),
        payout=Decimal("1"),
        dedupe_key=f"tid-{word}||",
    )
    delivery = Delivery.objects.create(
        config=config, postback_type="conversion", conversion=conversion, state="failed"
    )
    log = PostbackLog.objects.create(
        status="failed",
        postback_name=config.name,
        postback_type="conversion",
        offer_id=offer.pk,
        publisher_id=publisher.pk,
        transaction_id=conversion.transaction_id,
        response_code=500,
        url=f"{DEAD_URL}?tid=tid-{word}&who={word}&token=****",
        error=f"HTTP 500 from {word}",
        delivery=delivery,
        config=config,
        conversion=conversion,
    )
    return Side(publisher, advertiser, offer, config, conversion, delivery, log)


@pytest.fixture
def ours(db) -> Side:
    return _side("ours")


@pytest.fixture
def theirs(db) -> Side:
    return _side("theirs")


@pytest.fixture
def crossed(ours, theirs) -> PostbackLog:
    """An attempt of their offer sent to our publisher: ours for the publisher user, not
    for the advertiser user."""
    return PostbackLog.objects.create(
        status="success",
        postback_name="crossed",
        postback_type="conversion",
        offer_id=theirs.offer.pk,
        publisher_id=ours.publisher.pk,
        transaction_id="tid-crossed",
        response_code=200,
        url=f"{DEAD_URL}?tid=tid-crossed",
    )


def _portal_client(django_user_model, username: str, **owner) -> Client:
    user = django_user_model.objects.create_user(username, password="pw")
    Membership.objects.create(user=user, **owner)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def publisher_client(django_user_model, ours) -> Client:
    return _portal_client(django_user_model, "pub-user", publisher=ours.publisher)


@pytest.fixture
def advertiser_client(django_user_model, ours) -> Client:
    return _portal_client(django_user_model, "adv-user", advertiser=ours.advertiser)
