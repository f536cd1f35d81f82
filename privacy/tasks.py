"""django-q2 entry points of the privacy rules."""

import logging

from django_q.models import Schedule

from privacy.retention import purge as purge_now

PURGE_TASK = "privacy.tasks.purge"
logger = logging.getLogger(__name__)


def purge() -> str:
    """Scheduled every hour: the retention purge, for at most a minute."""
    result = purge_now()
    summary = (
        f"purged {result.logs} log rows, {result.clicks} clicks; "
        f"{result.clicks_anonymised} clicks stripped of personal data"
        + ("" if result.finished else "; more next hour")
    )
    logger.info("retention: %s", summary)
    return summary


def ensure_purge_schedule(**kwargs) -> None:
    """post_migrate: the retention purge runs in the worker every hour."""
    Schedule.objects.update_or_create(
        name="privacy.purge",
        defaults={
            "func": PURGE_TASK,
            "schedule_type": Schedule.HOURLY,
            "repeats": -1,
        },
    )
