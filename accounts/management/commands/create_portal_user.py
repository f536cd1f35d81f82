import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import Membership
from offers.models import Advertiser, Publisher


class Command(BaseCommand):
    help = (
        "Create a portal user for a publisher (--publisher ID) or an advertiser "
        "(--advertiser ID); prints its generated password once."
    )

    def add_arguments(self, parser):
        owner = parser.add_mutually_exclusive_group(required=True)
        owner.add_argument("--publisher", type=int, help="Publisher ID")
        owner.add_argument("--advertiser", type=int, help="Advertiser ID")
        parser.add_argument("username")
        parser.add_argument("--email", default="")

    def handle(self, *args, username, publisher=None, advertiser=None, email="", **options):
        owner = self._owner(publisher, advertiser)
        users = get_user_model()
        if users.objects.filter(username=username).exists():
            raise CommandError(f'A user "{username}" exists already: choose another username.')
        password = secrets.token_urlsafe(15)
        with transaction.atomic():
            user = users.objects.create_user(username=username, email=email, password=password)
            Membership.objects.create(
                user=user,
                publisher=owner if isinstance(owner, Publisher) else None,
                advertiser=owner if isinstance(owner, Advertiser) else None,
            )
        self.stdout.write(password)
        self.stderr.write(
            f'Portal user "{username}" of {owner} created. Its password is above: it is shown '
            "once. It signs in at /accounts/login/ and lands on /portal/."
        )

    def _owner(self, publisher: int | None, advertiser: int | None) -> Publisher | Advertiser:
        if publisher is not None:
            found = Publisher.objects.filter(pk=publisher).first()
            if found is None:
                raise CommandError(f"No publisher with ID {publisher}.")
            return found
        found_advertiser = Advertiser.objects.filter(pk=advertiser).first()
        if found_advertiser is None:
            raise CommandError(f"No advertiser with ID {advertiser}.")
        return found_advertiser
