"""The values behind the macros, for a click, a conversion, or a test."""

import time
from datetime import UTC, datetime
from decimal import Decimal

from offers.models import Click, Conversion
from postbacks.macros import DEVICE_ID_FIELDS, INSTALL_MACROS, SUB_FIELDS


def iso(moment: datetime | None) -> str:
    """ISO 8601 in UTC, e.g. 2026-01-01T00:05:00Z; empty for no time."""
    if moment is None:
        return ""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _money(value) -> str:
    return "" if value is None else format(Decimal(str(value)).normalize(), "f")


def click_context(click: Click) -> dict:
    context = {
        "transaction_id": click.transaction_id,
        "offer_id": click.offer_id,
        "offer_name": click.offer.name,
        "advertiser_id": click.offer.advertiser_id,
        "publisher_id": click.publisher_id,
        "country": click.country,
        "ip": click.ip or "",
        "click_time": iso(click.created),
        "currency": click.offer.currency,
        "revenue": _money(click.offer.revenue),
        "payout": _money(click.offer.payout),
    }
    for name in SUB_FIELDS + DEVICE_ID_FIELDS:
        context[name] = getattr(click, name)
    context["device_id"] = next((context[n] for n in DEVICE_ID_FIELDS if context[n]), "")
    return context


def conversion_context(conversion: Conversion) -> dict:
    if conversion.click is not None:
        context = click_context(conversion.click)
    else:
        attributes = conversion.attributes or {}
        context = {name: attributes.get(name, "") for name in DEVICE_ID_FIELDS}
        context["device_id"] = next((context[n] for n in DEVICE_ID_FIELDS if context[n]), "")
        context.update(
            transaction_id=conversion.transaction_id,
            offer_id=conversion.offer_id,
            offer_name=conversion.offer.name,
            advertiser_id=conversion.offer.advertiser_id,
            publisher_id=conversion.publisher_id or "",
            country=attributes.get("country_code", ""),
            click_time=attributes.get("click_time", ""),
        )
        for name in INSTALL_MACROS:
            # Trackers often send only the name (s_publisher_name) of a sub-source.
            context[name] = attributes.get(name) or attributes.get(f"{name}_name", "")
    context.update(
        conversion_id=conversion.pk,
        event_id=conversion.event_id or "",
        event_name=conversion.event.name if conversion.event is not None else "",
        status=conversion.status,
        revenue=_money(conversion.revenue),
        payout=_money(conversion.payout),
        currency=conversion.currency,
        conversion_time=iso(conversion.created),
        rejection_reason=conversion.rejection_reason,
    )
    return context


def sample_context(config) -> dict:
    """Plausible values for a Send test of a config."""
    offer = config.offer
    return {
        "transaction_id": "TEST" + "0" * 20,
        "offer_id": offer.pk if offer else 1,
        "offer_name": offer.name if offer else "Sample offer",
        "advertiser_id": offer.advertiser_id if offer else 1,
        "publisher_id": config.publisher_id,
        "event_id": config.event_id or (1 if config.postback_type == "event" else ""),
        "event_name": config.event.name if config.event_id else "purchase",
        "conversion_id": 1,
        "status": "rejected" if config.postback_type == "rejection" else "approved",
        "revenue": "1.5",
        "payout": "1",
        "currency": offer.currency if offer else "USD",
        "sub1": "sub 1 & more",
        "google_aid": "38400000-8cf0-11bd-b23e-10b96e40000d",
        "device_id": "38400000-8cf0-11bd-b23e-10b96e40000d",
        "country": "US",
        "ip": "203.0.113.7",
        "click_time": "2026-01-01T00:00:00Z",
        "conversion_time": "2026-01-01T00:05:00Z",
        "rejection_reason": "Test rejection" if config.postback_type == "rejection" else "",
    }


def with_timestamp(context: dict) -> dict:
    return {**context, "timestamp": int(time.time())}
