"""The click path's lookup cache stays bounded, forgets on clear() and expires entries."""

import pytest
from django.conf import settings
from django.db import connection

from offers import lookups
from offers.models import Offer, Status

UNKNOWN = 10_000_000  # far above any ID a test creates


class Clock:
    """A timer for the cache that moves only when the test says so."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch, settings):
    """This module's cache, built as at import, on a clock the test moves, and smaller than
    the default so that a few thousand database lookups overflow it many times."""
    settings.CLICK_CACHE_SIZE = 200
    clock = Clock()
    monkeypatch.setattr(lookups, "_cache", lookups.new_cache(timer=clock))
    return clock


def test_the_cache_is_sized_by_the_setting():
    assert lookups._cache.maxsize == settings.CLICK_CACHE_SIZE
    assert lookups._cache.ttl == lookups.CACHE_SECONDS


@pytest.mark.django_db
def test_it_holds_at_most_maxsize_entries_however_many_ids_are_asked(clock):
    asked = 10 * settings.CLICK_CACHE_SIZE
    for i in range(asked):
        assert lookups.click_configs(UNKNOWN + i, UNKNOWN + i) == []

    assert len(lookups._cache) == lookups._cache.currsize == settings.CLICK_CACHE_SIZE
    # The clock never moved, so the size limit did this: the newest entries are the ones kept.
    last = UNKNOWN + asked - 1
    assert ("click_configs", last, last) in lookups._cache
    assert ("click_configs", UNKNOWN, UNKNOWN) not in lookups._cache


def test_clicks_on_made_up_ids_stay_within_maxsize(client, clock, offer):
    for i in range(lookups._cache.maxsize + 1):
        lookups.active_offer(UNKNOWN + i)
    for i in range(300):
        assert client.get(f"/click/{UNKNOWN + i}/{UNKNOWN + i}/").status_code == 404
        assert client.get(f"/click/{offer.pk}/{UNKNOWN + i}/").status_code == 404

    assert len(lookups._cache) == lookups._cache.maxsize
    assert ("publisher", UNKNOWN + 299) in lookups._cache


def test_a_cached_paused_offer_is_404_after_clear(client, offer, publisher):
    assert client.get(f"/click/{offer.pk}/{publisher.pk}/").status_code == 302
    # As another process would: no post_save here, so this process keeps its cached offer.
    Offer.objects.filter(pk=offer.pk).update(status=Status.PAUSED)
    assert client.get(f"/click/{offer.pk}/{publisher.pk}/").status_code == 302

    lookups.clear()

    assert client.get(f"/click/{offer.pk}/{publisher.pk}/").status_code == 404


def test_entries_expire_after_cache_seconds(client, clock, offer, publisher):
    assert client.get(f"/click/{offer.pk}/{publisher.pk}/").status_code == 302
    Offer.objects.filter(pk=offer.pk).update(status=Status.PAUSED)

    clock.now += lookups.CACHE_SECONDS - 1
    assert client.get(f"/click/{offer.pk}/{publisher.pk}/").status_code == 302
    clock.now += 1
    assert client.get(f"/click/{offer.pk}/{publisher.pk}/").status_code == 404


def test_saving_an_offer_forgets_it_at_once(client, offer, publisher):
    assert client.get(f"/click/{offer.pk}/{publisher.pk}/").status_code == 302
    offer.status = Status.PAUSED
    offer.save()

    assert client.get(f"/click/{offer.pk}/{publisher.pk}/").status_code == 404


@pytest.mark.timeout(600)
@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the cache is the same on every database; once is enough"
)
def test_100000_distinct_unknown_pairs_leave_the_default_cache_bounded(db, monkeypatch):
    """The scan at full size, each pair asked once, as a scanner would (~30 s). The clock
    stands still, so that only the bound can keep the cache small (on the real clock a
    slow machine let entries expire first, and the cache was not even full)."""
    cache = lookups.new_cache(timer=lambda: 0.0)  # the default size
    monkeypatch.setattr(lookups, "_cache", cache)
    for i in range(50_000):
        lookups.active_offer(UNKNOWN + i)  # /click/<unknown offer>/…/
        lookups.publisher_is_active(UNKNOWN + i)  # /click/<offer>/<unknown publisher>/

    assert cache.currsize == cache.maxsize == settings.CLICK_CACHE_SIZE
