"""Short-lived in-process caches for the click path, which must stay fast.

A paused offer or publisher, or a changed Click postback config, takes effect within
CACHE_SECONDS in other processes (at once in the process that saved it).
"""

import time

from offers.models import Offer, Publisher, Status

CACHE_SECONDS = 5.0
_offers: dict[int, tuple[float, Offer | None]] = {}
_publishers: dict[int, tuple[float, bool]] = {}
_click_configs: dict[tuple[int, int], tuple[float, list]] = {}


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


def click_configs(offer_id: int, publisher_id: int) -> list:
    """Enabled Click postback configs for this offer and publisher."""
    from postbacks.models import PostbackConfig, PostbackType

    key = (offer_id, publisher_id)
    hit = _click_configs.get(key)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    configs = list(PostbackConfig.objects.matching(PostbackType.CLICK, publisher_id, offer_id))
    _click_configs[key] = (time.monotonic() + CACHE_SECONDS, configs)
    return configs


def clear() -> None:
    _offers.clear()
    _publishers.clear()
    _click_configs.clear()
