"""Short-lived in-process caches for the click path, which must stay fast.

A paused offer or publisher, or a changed Click postback config, takes effect within
CACHE_SECONDS in other processes (at once in the process that saved it).
"""

import time

from offers.models import Offer, Publisher, Status

CACHE_SECONDS = 5.0
_entries: dict[tuple, tuple[float, object]] = {}


def _cached(key: tuple, load):
    hit = _entries.get(key)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    value = load()
    _entries[key] = (time.monotonic() + CACHE_SECONDS, value)
    return value


def active_offer(offer_id: int) -> Offer | None:
    return _cached(
        ("offer", offer_id),
        lambda: Offer.objects.filter(pk=offer_id, status=Status.ACTIVE).first(),
    )


def publisher_is_active(publisher_id: int) -> bool:
    return _cached(
        ("publisher", publisher_id),
        lambda: Publisher.objects.filter(pk=publisher_id, status=Status.ACTIVE).exists(),
    )


def click_configs(offer_id: int, publisher_id: int) -> list:
    """Enabled Click postback configs for this offer and publisher."""
    from postbacks.models import PostbackConfig, PostbackType

    return _cached(
        ("click_configs", offer_id, publisher_id),
        lambda: list(PostbackConfig.objects.matching(PostbackType.CLICK, publisher_id, offer_id)),
    )


def clear() -> None:
    _entries.clear()
