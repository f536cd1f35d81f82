"""When to try a failed postback again."""

import random

from django.conf import settings

# Delay before attempt n+1 after attempt n failed (index n-1); the last value repeats.
SCHEDULE_SECONDS = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600)
JITTER = 0.2


def is_retryable(response_code: int, permanent: bool) -> bool:
    """Code 0 (no response), 408, 429 and 5xx are worth another try; other 4xx are not."""
    if permanent:
        return False
    return response_code in (0, 408, 429) or response_code >= 500


def retry_delay(attempt: int, retry_after: float | None = None) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based)."""
    if retry_after is not None:
        return min(max(retry_after, 1.0), settings.POSTBACK_RETRY_AFTER_CAP)
    base = SCHEDULE_SECONDS[min(attempt, len(SCHEDULE_SECONDS)) - 1]
    return base * random.uniform(1 - JITTER, 1 + JITTER)
