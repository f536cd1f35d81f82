from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_sweep_schedule(**kwargs) -> None:
    """The periodic sweep that re-rings the doorbell for due deliveries."""
    from django.conf import settings
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name="postbacks.sweep",
        defaults={
            "func": "postbacks.tasks.sweep",
            "schedule_type": Schedule.MINUTES,
            "minutes": settings.POSTBACK_SWEEP_MINUTES,
            "repeats": -1,
        },
    )


class PostbacksConfig(AppConfig):
    name = "postbacks"

    def ready(self) -> None:
        from django_q.signals import post_spawn

        from postbacks.dispatch import wake_at_worker_start

        post_migrate.connect(ensure_sweep_schedule, sender=self)
        post_spawn.connect(wake_at_worker_start, dispatch_uid="postbacks.wake_at_worker_start")
