from django.apps import AppConfig
from django.db.models.signals import post_save


def _forget_cached_lookups(**kwargs) -> None:
    from offers import lookups

    lookups.clear()


class OffersConfig(AppConfig):
    name = "offers"

    def ready(self) -> None:
        from postbacks.models import PostbackConfig

        for model in (self.get_model("Offer"), self.get_model("Publisher"), PostbackConfig):
            post_save.connect(_forget_cached_lookups, sender=model)
