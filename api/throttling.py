"""API rate limits (SPEC §14): per API key (or signed-in user), else per client IP.

Past API_RATE requests the API answers `429` with `Retry-After` (DRF's Throttled, in the
API's error shape under `throttle`). Counts live in Django's cache: per process with the
default local-memory cache, shared when CACHES points at Redis (README).
"""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class ApiRateThrottle(SimpleRateThrottle):
    scope = "api"

    def get_rate(self) -> str | None:
        # Read on every request, so a setting override (or a deploy) takes effect at once.
        return settings.API_RATE or None

    def allow_request(self, request, view) -> bool:
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view) -> str:
        user = request.user
        api_key = getattr(user, "api_key", None)
        if api_key is not None:
            ident = f"key-{api_key.pk}"
        elif user is not None and user.is_authenticated:
            ident = f"user-{user.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
