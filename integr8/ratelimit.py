"""Per-IP limits on the public endpoints (SPEC §14): /click/, /conversion/ and the custom
postback API.

A fixed window per client IP, counted in Django's cache (per web process with the
default local-memory cache; shared with Redis as CACHES). Past the rate the endpoint
answers `429` with `Retry-After` — JSON in the endpoint's error shape for the
server-to-server calls, text for the click redirect. Rates are settings of the form
"<n>/<s|m|h|d>"; an empty one turns the limit off.
"""

import math
import time
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse

from offers.auth import client_ip

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    count, _, unit = rate.partition("/")
    return int(count), UNITS[unit.strip()[:1]]


def retry_after(name: str, ip: str, rate: str) -> int | None:
    """Seconds to wait when `ip` is past `rate` for `name`; None while it is within."""
    allowed, seconds = parse_rate(rate)
    now = time.time()
    key = f"ratelimit:{name}:{ip}:{int(now // seconds)}"
    if cache.add(key, 1, timeout=seconds + 1):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=seconds + 1)
            count = 1
    if count <= allowed:
        return None
    return max(1, math.ceil(seconds - now % seconds))


def limited(name: str, setting: str, json: bool = True) -> Callable:
    """Decorate a public view with the per-IP rate in settings.<setting>."""

    def decorate(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            rate = getattr(settings, setting)
            wait = retry_after(name, client_ip(request), rate) if rate else None
            if wait is None:
                return view(request, *args, **kwargs)
            message = f"Too many requests from this address: at most {rate}; retry in {wait} s."
            response: HttpResponse
            if json:
                response = JsonResponse({"errors": {"throttle": [message]}}, status=429)
            else:
                response = HttpResponse(message, status=429, content_type="text/plain")
            response["Retry-After"] = str(wait)
            return response

        return wrapped

    return decorate
