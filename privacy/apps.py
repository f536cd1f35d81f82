from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = "Privacy"

    def ready(self) -> None:
        from privacy.tasks import ensure_purge_schedule

        post_migrate.connect(ensure_purge_schedule, sender=self)
