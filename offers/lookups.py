"""Short-lived in-process caches for the click path, which must stay fast.

A paused offer or publisher, or a changed Click postback config, takes effect within
CACHE_SECONDS in other processes (at once in the process that saved it). The cache keeps
at most settings.CLICK_CACHE_SIZE entries (the least recently used go first), so requests
for made-up offer and publisher IDs cannot grow it without limit.
"""

import threading
import time
from collections.abc import Callable

from cachetools import TTLCache
from django.conf import settings

from offers.models import Offer, Publisher, Status
from postbacks.models import PostbackConfig, PostbackType

CACHE_SECONDS = 5.0
_MISSING = object()


def new_cache(timer: Callable[[], float] = time.monotonic) -> TTLCache:
    """The cache as this module builds it; a test may give it a clock it moves itself."""
    return TTLCache(maxsize=settings.CLICK_CACHE_SIZE, ttl=CACHE_SECONDS, timer=timer)


_cache = new_cache()
# cachetools caches are not thread-safe, and gunicorn may run threads. The lock is held
# around the cache reads and writes only, never around a database query.
_lock = threading.Lock()


def _cached(key: tuple, load: Callable[[], object]):
    with _lock:
        value = _cache.get(key, _MISSING)
    if value is _MISSING:
        value = load()
        with _lock:
            _cache[key] = value
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


def click_configs(offer_id: int, publisher_id: int) -> list[PostbackConfig]:
    """Enabled Click postback configs for this offer and publisher."""
    return _cached(
        ("click_configs", offer_id, publisher_id),
        lambda: list(PostbackConfig.objects.matching(PostbackType.CLICK, publisher_id, offer_id)),
    )


def clear() -> None:
    with _lock:
        _cache.clear()
