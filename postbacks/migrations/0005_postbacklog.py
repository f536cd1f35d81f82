"""PostbackLog, taken over from the logs app (state only; the table keeps its name),
and the claim fence on deliveries."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


def move_content_type(apps, schema_editor):
    """Keep the model's permissions (and admin history) under its new app."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="postbacks", model="postbacklog").exists():
        ContentType.objects.filter(app_label="logs", model="postbacklog").update(
            app_label="postbacks"
        )


def restore_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="postbacks", model="postbacklog").update(
        app_label="logs"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("offers", "0001_initial"),
        ("postbacks", "0004_signing_secret_check"),
        ("logs", "0003_postbacklog_moves_to_postbacks"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="PostbackLog",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("created", models.DateTimeField(default=django.utils.timezone.now)),
                        ("status", models.CharField(choices=[("success", "Success"), ("failed", "Failed")], max_length=8)),
                        ("postback_name", models.CharField(max_length=200)),
                        ("postback_type", models.CharField(choices=[("click", "Click"), ("conversion", "Conversion"), ("event", "Event"), ("rejection", "Rejection")], max_length=12)),
                        ("offer_id", models.BigIntegerField(blank=True, null=True)),
                        ("publisher_id", models.BigIntegerField(blank=True, null=True)),
                        ("event_id", models.BigIntegerField(blank=True, null=True)),
                        ("transaction_id", models.CharField(blank=True, max_length=64)),
                        ("response_code", models.IntegerField(default=0, help_text="0 = no HTTP response.")),
                        ("url", models.TextField()),
                        ("error", models.TextField(blank=True)),
                        ("server_response", models.TextField(blank=True)),
                        ("method", models.CharField(default="GET", max_length=4)),
                        ("attempt", models.PositiveIntegerField(default=1)),
                        ("duration_ms", models.PositiveIntegerField(default=0)),
                        ("trigger", models.CharField(choices=[("automatic", "Automatic"), ("retry", "Retry"), ("refire", "Re-fire"), ("test", "Test")], default="automatic", max_length=10)),
                        ("request_headers", models.JSONField(blank=True, default=dict)),
                        ("request_body", models.TextField(blank=True)),
                        ("webhook_id", models.CharField(blank=True, max_length=64)),
                        ("click", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="logs", to="offers.click")),
                        ("config", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="logs", to="postbacks.postbackconfig")),
                        ("conversion", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="logs", to="offers.conversion")),
                        ("delivery", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="logs", to="postbacks.delivery")),
                    ],
                    options={"db_table": "logs_postbacklog", "ordering": ["-id"]},
                ),
            ],
            database_operations=[
                migrations.RunPython(move_content_type, restore_content_type),
            ],
        ),
        migrations.AddField(
            model_name="delivery",
            name="claim_token",
            field=models.CharField(blank=True, help_text="Set by each claim; only the dispatcher holding it may record an outcome.", max_length=32),
        ),
        migrations.AddField(
            model_name="delivery",
            name="refire_requested",
            field=models.BooleanField(default=False, help_text="A re-fire arrived after the current claim: one more round once it ends."),
        ),
    ]
