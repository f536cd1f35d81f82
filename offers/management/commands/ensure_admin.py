import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "On an empty database, create the staff login `admin` and print its password once; "
        "--reset gives `admin` a new random password (creating it if needed)."
    )
    # `make run` calls this right after `migrate`, which has just run the system checks.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Set a new random password for `admin` and print it once.",
        )

    def handle(self, *args, reset=False, **options):
        users = get_user_model().objects
        password = secrets.token_urlsafe(12)
        if reset and (admin := users.filter(username="admin").first()):
            admin.set_password(password)
            admin.save(update_fields=["password"])
            self.stdout.write(f"New password for admin: {password} (shown once: note it now).")
        elif reset or not users.exists():
            users.create_superuser("admin", "", password)
            self.stdout.write(
                f"Created the staff login admin / {password} (shown once: note it now)."
            )
