from django.apps import AppConfig


class HealthConfig(AppConfig):
    """Delivery health: the ops overview at `/` (SPEC §11)."""

    name = "health"
