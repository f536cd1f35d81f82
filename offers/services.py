"""Recording clicks and conversions, with the deliveries they trigger."""

from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction

from offers import lookups
from offers.models import Click, Conversion, ConversionStatus, Offer, OfferEvent
from postbacks.services import queue_click_postbacks, queue_conversion_postbacks, refire_conversion


def record_click(offer: Offer, publisher_id: int, **fields) -> Click:
    click = Click(offer=offer, publisher_id=publisher_id, **fields)
    configs = lookups.click_configs(offer.pk, publisher_id)
    if not configs:
        Click.objects.insert(click)  # the common case: one INSERT, no transaction block
        return click
    with transaction.atomic():
        click.save(force_insert=True)
        queue_click_postbacks(click, configs)
    return click


@dataclass
class ConversionResult:
    conversion: Conversion
    duplicate: bool
    postbacks_queued: int


def dedupe_key(transaction_id: str, event: OfferEvent | None, order_id: str) -> str:
    return f"{transaction_id}|{event.pk if event else ''}|{order_id}"


def record_conversion(
    click: Click,
    event: OfferEvent | None,
    amount: Decimal | None,
    currency: str | None,
    order_id: str,
    status: str = ConversionStatus.APPROVED,
    consent: str = "",
) -> ConversionResult:
    """Count a conversion once; a repeat re-fires its postbacks that have not succeeded."""
    key = dedupe_key(click.transaction_id, event, order_id)
    existing = Conversion.objects.filter(dedupe_key=key).first()
    if existing is not None:
        return _duplicate(existing)
    priced = event or click.offer
    conversion = Conversion(
        transaction_id=click.transaction_id,
        click=click,
        offer=click.offer,
        publisher_id=click.publisher_id,
        event=event,
        status=status,
        revenue=amount if amount is not None else priced.revenue,
        payout=priced.payout,
        currency=currency or click.offer.currency,
        order_id=order_id,
        consent=consent,
        dedupe_key=key,
    )
    try:
        with transaction.atomic():
            conversion.save()
            deliveries = queue_conversion_postbacks(conversion)
    except IntegrityError:
        # Two identical calls raced: the other one counted it.
        return _duplicate(Conversion.objects.get(dedupe_key=key))
    return ConversionResult(conversion, duplicate=False, postbacks_queued=len(deliveries))


def _duplicate(conversion: Conversion) -> ConversionResult:
    queued = refire_conversion(conversion, only_failed=True)
    return ConversionResult(conversion, duplicate=True, postbacks_queued=queued)
