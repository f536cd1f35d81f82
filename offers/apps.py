from django.apps import AppConfig
from django.db.models.signals import post_save


def _forget_cached_lookups(**kwargs) -> None:
    from offers import lookups

    lookups.clear()


class OffersConfig(AppConfig):
    name = "offers"

    def ready(self) -> None:
        for model in ("Offer", "Publisher"):
            post_save.connect(_forget_cached_lookups, sender=self.get_model(model))
