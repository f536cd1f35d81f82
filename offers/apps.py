from django.apps import AppConfig
from django.db.models.signals import post_save


class OffersConfig(AppConfig):
    name = "offers"

    def ready(self) -> None:
        # Imported once the app registry is ready: these modules import models.
        from offers import lookups
        from postbacks.models import PostbackConfig

        def forget_cached_lookups(**kwargs) -> None:
            lookups.clear()

        for model in (self.get_model("Offer"), self.get_model("Publisher"), PostbackConfig):
            post_save.connect(
                forget_cached_lookups, sender=model, weak=False, dispatch_uid=f"lookups.{model}"
            )
