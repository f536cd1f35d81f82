from django.apps import AppConfig
from django.core import checks
from django.db.models.signals import post_migrate

from integr8.checks import ops_email, postback_sender


class PostbacksConfig(AppConfig):
    name = "postbacks"

    def ready(self) -> None:
        # Imported once the app registry is ready: these modules import models.
        from django_q.signals import post_spawn

        from postbacks.dispatch import wake_at_worker_start
        from postbacks.tasks import ensure_partition_schedule, ensure_sweep_schedule

        checks.register(ops_email)
        checks.register(postback_sender)
        post_migrate.connect(ensure_sweep_schedule, sender=self)
        post_migrate.connect(ensure_partition_schedule, sender=self)
        post_spawn.connect(wake_at_worker_start, dispatch_uid="postbacks.wake_at_worker_start")
