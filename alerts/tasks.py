"""django-q2 entry points: the rules' evaluation every minute, and the notices."""

from django_q.models import Schedule

from alerts.evaluate import evaluate_rules
from alerts.notices import send_due_notices

EVALUATE_TASK = "alerts.tasks.evaluate"


def evaluate() -> int:
    """Scheduled every minute: open and resolve alerts, then send what is due."""
    evaluate_rules()
    return send_due_notices()


def send_notices() -> int:
    return send_due_notices()


def ensure_evaluate_schedule(**kwargs) -> None:
    """post_migrate: the rules are evaluated in the worker every minute."""
    Schedule.objects.update_or_create(
        name="alerts.evaluate",
        defaults={
            "func": EVALUATE_TASK,
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )
