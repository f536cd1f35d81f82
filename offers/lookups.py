"""Short-lived in-process caches for the click path, which must stay fast.

A paused offer or publisher takes effect within CACHE_SECONDS.
"""

import time

from offers.models import Offer, Publisher, Status

CACHE_SECONDS = 5.0
_offers: dict[int, tuple[float, Offer | None]] = {}
_publishers: dict[int, tuple[float, bool]] = {}


def active_offer(offer_id: int) -> Offer | None:
    hit = _offers.get(offer_id)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    offer = Offer.objects.filter(pk=offer_id, status=Status.ACTIVE).first()
    _offers[offer_id] = (time.monotonic() + CACHE_SECONDS, offer)
    return offer


def publisher_is_active(publisher_id: int) -> bool:
    hit = _publishers.get(publisher_id)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    active = Publisher.objects.filter(pk=publisher_id, status=Status.ACTIVE).exists()
    _publishers[publisher_id] = (time.monotonic() + CACHE_SECONDS, active)
    return active


def clear() -> None:
    _offers.clear()
    _publishers.clear()
