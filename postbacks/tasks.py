"""django-q2 entry points. Tasks take no state: the database holds it."""

from django.conf import settings
from django_q.models import Schedule

from postbacks import partitions
from postbacks.dispatch import forget_dead_dispatchers, run_dispatcher, wake_dispatcher
from postbacks.models import Delivery
from postbacks.services import resume_stalled_refire_jobs

SWEEP_TASK = "postbacks.tasks.sweep"
PARTITIONS_TASK = "postbacks.tasks.make_log_partitions"


def dispatch() -> None:
    run_dispatcher()


def sweep() -> int:
    """Scheduled every minute: ring for deliveries that are due (lost bell, expired lease),
    and re-queue re-fire jobs whose run was lost."""
    due = Delivery.objects.due().count()
    if due:
        forget_dead_dispatchers()  # a killed dispatcher must not keep the bell quiet
        wake_dispatcher()
    resume_stalled_refire_jobs()
    return due


def ensure_sweep_schedule(**kwargs) -> None:
    """post_migrate: the periodic sweep that re-rings the doorbell for due deliveries."""
    Schedule.objects.update_or_create(
        name="postbacks.sweep",
        defaults={
            "func": SWEEP_TASK,
            "schedule_type": Schedule.MINUTES,
            "minutes": settings.POSTBACK_SWEEP_MINUTES,
            "repeats": -1,
        },
    )


def make_log_partitions() -> str:
    """Scheduled every hour (PostgreSQL): the log table's day partitions for today and
    LOG_PARTITION_DAYS_AHEAD days ahead. Hourly, so one lost run costs nothing."""
    created = partitions.ensure_ahead()
    return f"created {', '.join(created)}" if created else "nothing to create"


def ensure_partition_schedule(**kwargs) -> None:
    """post_migrate: the schedule that keeps log partitions made ahead of time (it does
    nothing on SQLite, where the log table is not partitioned)."""
    Schedule.objects.update_or_create(
        name="postbacks.log_partitions",
        defaults={"func": PARTITIONS_TASK, "schedule_type": Schedule.HOURLY, "repeats": -1},
    )
