"""With CACHE_URL (or REDIS_URL) the rate-limit counts live in Redis, so every web
process counts together. Skipped where no Redis answers on loopback."""

import os
import subprocess
import sys
import uuid

import pytest
import redis
from django.test import override_settings

from integr8.ratelimit import retry_after

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"


def _redis_answers() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except (OSError, redis.RedisError):
        return False


@pytest.mark.skipif(not _redis_answers(), reason="no Redis on loopback")
def test_rate_counts_are_shared_through_redis():
    prefix = f"integr8-test-{uuid.uuid4().hex}"
    shared = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    with override_settings(CACHES=shared):
        assert retry_after("click", "192.0.2.1", "2/m") is None
        assert retry_after("click", "192.0.2.1", "2/m") is None
        # Another process would read the same count: look at Redis itself.
        other_process = redis.Redis.from_url(REDIS_URL)
        keys = other_process.keys(f"{prefix}:*ratelimit:click:192.0.2.1:*")
        assert len(keys) == 1 and int(other_process.get(keys[0])) == 2
        assert retry_after("click", "192.0.2.1", "2/m") > 0
        other_process.delete(*keys)


def test_settings_pick_redis_when_a_url_is_given():
    code = "import integr8.settings as s; print(s.CACHES['default']['BACKEND'], s.CACHE_URL)"
    env = {**os.environ, "CACHE_URL": "redis://127.0.0.1:6379/3"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["django.core.cache.backends.redis.RedisCache", "redis://127.0.0.1:6379/3"]
