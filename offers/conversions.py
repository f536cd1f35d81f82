"""The advertiser's conversion call (`/conversion/`): every field checked before storing.

Like `offers.installs.parse_install`: one function validates the call against what the
columns can hold and raises `BadRequest` listing every problem at once. A 401, 403 or 404
answers alone, since one status code cannot carry both; 400 problems are collected.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pycountry
from django.http import HttpRequest
from django.utils import timezone

from offers.auth import authenticate_api_key, ip_allowed, raw_key_from_request
from offers.installs import Invalid, Problems, parse_consent_field, show
from offers.models import (
    ApiKey,
    Click,
    Conversion,
    ConversionStatus,
    OfferEvent,
)
from offers.money import InvalidAmount, parse_amount
from offers.params import SURROGATE, BadRequest

ACCEPTED_STATUSES = (ConversionStatus.APPROVED, ConversionStatus.PENDING)
# An Event ID is a bigint; longer digit runs are names (int() of 4300+ digits even raises).
EVENT_ID = re.compile(r"\d{1,19}", re.ASCII)


@dataclass(frozen=True)
class ParsedConversion:
    """A validated conversion call, ready for `offers.services.record_conversion`."""

    click: Click
    event: OfferEvent | None
    amount: Decimal | None
    currency: str | None
    order_id: str
    status: str
    consent: str = ""


def _field(name: str):
    return Conversion._meta.get_field(name)


def api_key_for(request: HttpRequest, params: dict[str, str]) -> ApiKey:
    """The caller's key, or a 401."""
    raw_key = raw_key_from_request(request, params)
    if not raw_key:
        raise BadRequest(
            {"key": ["An API key is required: Authorization: Bearer <key>, or key=<key>."]}, 401
        )
    api_key = authenticate_api_key(raw_key)
    if api_key is None:
        raise BadRequest({"key": ["The API key is not valid."]}, 401)
    return api_key


def parse_conversion(params: dict[str, str], api_key: ApiKey, ip: str) -> ParsedConversion:
    """Validate every field; raise BadRequest (400, 403 or 404) or return the call."""
    found = Problems(_unstorable_text(params))
    amount = _parsed(params, "amount", _amount, found)
    currency = _parsed(params, "currency", _currency, found)
    order_id = _parsed(params, "order_id", _order_id, found) or ""
    status = _parsed(params, "status", _status, found) or ConversionStatus.APPROVED
    consent = _parsed(params, "consent", parse_consent_field, found) or ""
    transaction_id = _parsed(params, "transaction_id", _transaction_id, found)
    if transaction_id is None:
        if "transaction_id" not in found:
            found.add("transaction_id", "This field is required.")
        raise BadRequest(dict(found))  # the event can only be checked against the click
    click = _click_for(transaction_id, api_key, ip)
    _check_window(click, found)
    event = _parsed(params, "event", lambda raw: _event(click, raw), found)
    if found:
        raise BadRequest(dict(found))
    return ParsedConversion(click, event, amount, currency, order_id, status, consent)


def _unstorable_text(params: dict[str, str]) -> dict[str, list[str]]:
    """Characters no column can store: NUL (PostgreSQL refuses it) and lone surrogates."""
    problems = {}
    for name, value in params.items():
        if "\x00" in value:
            problems[name] = ["Contains a NUL character."]
        elif SURROGATE.search(value):
            problems[name] = ["Contains an unpaired surrogate (e.g. \\ud800): not valid text."]
    return problems


def _parsed(params: dict[str, str], name: str, parse: Callable[[str], object], found: Problems):
    """The parsed value of a field that was sent, or None (absent, empty or refused)."""
    raw = (params.get(name) or "").strip()
    if not raw or name in found:
        return None
    try:
        return parse(raw)
    except Invalid as problem:
        found.add(name, str(problem))
        return None


def _amount(raw: str) -> Decimal:
    try:
        return parse_amount(raw, _field("revenue"))
    except InvalidAmount as problem:
        raise Invalid(f"{show(raw)} {problem}") from None


def _currency(raw: str) -> str:
    code = raw.upper()
    if len(code) != 3 or pycountry.currencies.get(alpha_3=code) is None:
        raise Invalid(f"{show(code)} is not an ISO 4217 currency code.")
    return code


def _order_id(raw: str) -> str:
    limit = _field("order_id").max_length
    if len(raw) > limit:
        raise Invalid(f"At most {limit} characters ({len(raw)} sent).")
    return raw


def _status(raw: str) -> str:
    status = raw.lower()
    if status not in ACCEPTED_STATUSES:
        raise Invalid(f"{show(status)} is not one of: approved, pending.")
    return status


def _transaction_id(raw: str) -> str:
    # Longer than the column: no click can have it, and the query need not run.
    limit = _field("transaction_id").max_length
    if len(raw) > limit:
        raise Invalid(f"{show(raw)} is not a transaction ID: at most {limit} characters.")
    return raw


def _click_for(transaction_id: str, api_key: ApiKey, ip: str) -> Click:
    """The click, or a 404; a 403 when the key or the address may not report for it."""
    click = (
        Click.objects.select_related("offer__advertiser")
        .filter(transaction_id=transaction_id)
        .first()
    )
    if click is None:
        raise BadRequest(
            {"transaction_id": [f"Unknown transaction ID {show(transaction_id)}."]}, 404
        )
    advertiser = click.offer.advertiser
    if not api_key.is_staff:
        if api_key.advertiser_id != advertiser.pk:
            raise BadRequest({"key": ["This API key does not own the click's offer."]}, 403)
        if not ip_allowed(advertiser, ip):
            raise BadRequest(
                {"ip": [f"Requests from {ip} are not in the advertiser's IP allowlist."]}, 403
            )
    return click


def _check_window(click: Click, found: Problems) -> None:
    days = click.offer.attribution_window_days
    if timezone.now() - click.created > timedelta(days=days):
        found.add(
            "transaction_id",
            f"The click is older than the offer's {days}-day attribution window.",
        )


def _event(click: Click, name_or_id: str) -> OfferEvent:
    events = OfferEvent.objects.filter(offer_id=click.offer_id)
    event = events.filter(name=name_or_id).first()
    if event is None and EVENT_ID.fullmatch(name_or_id):
        event = events.filter(pk=int(name_or_id)).first()
    if event is None:
        raise Invalid(
            f"Offer {click.offer_id} has no event {show(name_or_id)} (give its name or Event ID)."
        )
    return event
