from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AlertsConfig(AppConfig):
    name = "alerts"

    def ready(self) -> None:
        from alerts.tasks import ensure_evaluate_schedule

        post_migrate.connect(ensure_evaluate_schedule, sender=self)
