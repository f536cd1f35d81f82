from django.core.management.base import BaseCommand, CommandError

from offers.models import Advertiser, ApiKey


class Command(BaseCommand):
    help = "Create an API key for an advertiser (--advertiser ID) or staff (--staff); shown once."

    def add_arguments(self, parser):
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--advertiser", type=int, help="Advertiser ID")
        who.add_argument("--staff", action="store_true", help="A staff key: manages everything")
        parser.add_argument("--name", default="", help="A label to tell keys apart")

    def handle(self, *args, advertiser=None, staff=False, name="", **options):
        owner = None
        if advertiser is not None:
            owner = Advertiser.objects.filter(pk=advertiser).first()
            if owner is None:
                raise CommandError(f"No advertiser with ID {advertiser}.")
        _, raw_key = ApiKey.issue(advertiser=owner, is_staff=staff, name=name)
        self.stdout.write(raw_key)
        self.stderr.write("Store this key now: it is shown once and only its hash is kept.")
