import os

from django.core.management.base import BaseCommand

from offers.models import Advertiser, ApiKey, Offer, OfferEvent, Publisher
from postbacks.models import PostbackConfig

DEMO_POSTBACK = (
    "http://127.0.0.1:9000/?event=conversion&tid={transaction_id}&offer={offer_id}"
    "&payout={payout}&sub1={sub1}"
)


class Command(BaseCommand):
    help = "Create a demo advertiser, offer, publisher and postback, and print curl commands."
    # Demo data, not start-up: the checks' warnings were shown by `make run` (migrate).
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url",
            help="Where Integr8 answers; default http://$HOST:$PORT as `make run` serves it "
            "(127.0.0.1 and 8000 when unset).",
        )
        parser.add_argument("--postback-url", default=DEMO_POSTBACK)

    def handle(self, *args, base_url=None, postback_url="", **options):
        if not base_url:  # the same defaults as bin/run-all
            host = os.environ.get("HOST") or "127.0.0.1"
            base_url = f"http://{host}:{os.environ.get('PORT') or '8000'}"
        base_url = base_url.rstrip("/")
        advertiser = Advertiser.objects.create(name="Demo Advertiser")
        offer = Offer.objects.create(
            advertiser=advertiser,
            name="Demo Game Install",
            destination_url="https://example.com/store?click_id={click_id}&sub1={sub1}",
            revenue="2.50",
            payout="1.80",
        )
        advertiser.default_offer = offer
        advertiser.save(update_fields=["default_offer"])
        OfferEvent.objects.create(offer=offer, name="purchase", revenue="10", payout="4")
        publisher = Publisher.objects.create(name="Demo Publisher")
        PostbackConfig.objects.create(
            name="Demo conversion postback", publisher=publisher, url=postback_url
        )
        _, key = ApiKey.issue(advertiser=advertiser, name="demo")
        self.stdout.write(
            f"Advertiser {advertiser.pk}, offer {offer.pk}, publisher {publisher.pk}.\n"
            f"Advertiser API key (shown once): {key}\n\n"
            f"For the README's API examples, in your shell:  KEY={key}\n\n"
            "1. A receiver for the publisher's postbacks:  "
            "python3 -m http.server 9000 --bind 127.0.0.1\n"
            "   (postbacks reach it only if `make run` was started with "
            "POSTBACK_ALLOW_NETWORKS=127.0.0.0/8,::1/128)\n"
            "2. A click (note the click_id in the Location header):\n"
            f"   curl -si '{base_url}/click/{offer.pk}/{publisher.pk}/?sub1=hello' "
            "| grep -i ^location\n"
            "3. The advertiser's conversion call:\n"
            f"   curl -s -H 'Authorization: Bearer {key}' "
            f"'{base_url}/conversion/?transaction_id=<click_id>&amount=2.50'\n"
            f"4. The attempt in the log: {base_url}/logs/\n"
        )
