"""System checks for configuration that works but quietly loses something."""

from django.conf import settings
from django.core import checks


def ops_email(app_configs=None, **kwargs) -> list[checks.Warning]:
    """A config disabled after repeated failures emails OPS_EMAIL, else Django's ADMINS."""
    if settings.OPS_EMAIL or settings.ADMINS:
        return []
    return [
        checks.Warning(
            "OPS_EMAIL is not set: when a postback config is disabled after repeated "
            "failures, nobody is told (the notice goes to Django's ADMINS, which is empty).",
            hint=(
                "Set OPS_EMAIL=ops@example.com. Mail goes through EMAIL_BACKEND, by default "
                "printed on the worker's console; for SMTP set "
                "EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend and EMAIL_HOST, "
                "EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS."
            ),
            id="integr8.W001",
        )
    ]
