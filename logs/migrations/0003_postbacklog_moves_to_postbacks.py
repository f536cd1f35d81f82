"""The PostbackLog model moves to the postbacks app, beside the delivery that writes it.

State only: the table (logs_postbacklog) and its indexes stay where they are;
postbacks/migrations/0005 takes the model over.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("logs", "0002_postgres_filter_indexes")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="PostbackLog")],
            database_operations=[],
        )
    ]
