"""System checks for configuration that works but quietly loses something."""

from django.conf import settings
from django.core import checks

POSTBACK_SENDERS = ("asyncio", "threads")


def postback_sender(app_configs=None, **kwargs) -> list[checks.Error]:
    """A misspelt POSTBACK_SENDER must stop the start, not quietly pick a path."""
    if settings.POSTBACK_SENDER in POSTBACK_SENDERS:
        return []
    return [
        checks.Error(
            f"POSTBACK_SENDER={settings.POSTBACK_SENDER!r} is not a sending path.",
            hint="Use POSTBACK_SENDER=asyncio (the default) or POSTBACK_SENDER=threads.",
            id="integr8.E001",
        )
    ]


def ops_email(app_configs=None, **kwargs) -> list[checks.Warning]:
    """Alert notices (a config auto-disabled, a rule that names no address) email
    OPS_EMAIL, else Django's ADMINS."""
    if settings.OPS_EMAIL or settings.ADMINS:
        return []
    return [
        checks.Warning(
            "OPS_EMAIL is not set: when an alert opens (a postback config disabled after "
            "repeated failures, the default alert rule), nobody is told by email (the "
            "notice goes to Django's ADMINS, which is empty); it still shows on /alerts/.",
            hint=(
                "Set OPS_EMAIL=ops@example.com. Mail goes through EMAIL_BACKEND, by default "
                "printed on the worker's console; for SMTP set "
                "EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend and EMAIL_HOST, "
                "EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS."
            ),
            id="integr8.W001",
        )
    ]
