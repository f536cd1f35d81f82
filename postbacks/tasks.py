"""django-q2 entry points. Tasks take no state: the database holds it."""

from postbacks.dispatch import forget_dead_dispatchers, run_dispatcher, wake_dispatcher
from postbacks.models import Delivery


def dispatch() -> None:
    run_dispatcher()


def sweep() -> int:
    """Scheduled every minute: ring for deliveries that are due (lost bell, expired lease)."""
    due = Delivery.objects.due().count()
    if due:
        forget_dead_dispatchers()  # a killed dispatcher must not keep the bell quiet
        wake_dispatcher()
    return due
