"""A fresh install watches every config from the start (SPEC §11)."""

import base64
import secrets

from django.db import migrations


def add_default_rule(apps, schema_editor):
    AlertRule = apps.get_model("alerts", "AlertRule")
    if AlertRule.objects.exists():
        return
    AlertRule.objects.create(
        name="Any config: first-attempt success below 80 %",
        condition="success_rate_below",
        threshold=80,
        window_minutes=15,
        min_attempts=20,
        webhook_secret="whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
    )


class Migration(migrations.Migration):
    dependencies = [("alerts", "0001_initial")]

    operations = [migrations.RunPython(add_default_rule, migrations.RunPython.noop)]
