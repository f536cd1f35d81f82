"""Public tracking endpoints: the click redirect and the advertiser's conversion call."""

from decimal import Decimal, InvalidOperation

import pycountry
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from offers import lookups
from offers.auth import authenticate_api_key, client_ip, ip_allowed, raw_key_from_request
from offers.models import DEVICE_ID_FIELDS, SUB_FIELDS, Click, ConversionStatus, OfferEvent
from offers.params import BadRequest, request_params, tracker_endpoint
from offers.services import record_click, record_conversion
from postbacks.context import click_context
from postbacks.macros import render

COUNTRY_HEADERS = ("HTTP_CF_IPCOUNTRY", "HTTP_X_COUNTRY_CODE")


@require_GET
def click(request, offer_id: int, publisher_id: int):
    offer = lookups.active_offer(offer_id)
    if offer is None or not lookups.publisher_is_active(publisher_id):
        raise Http404("Unknown or paused offer or publisher.")
    fields = {name: _text(request.GET.get(name, ""), 255) for name in SUB_FIELDS + DEVICE_ID_FIELDS}
    fields["ip"] = client_ip(request) or None
    fields["user_agent"] = _text(request.META.get("HTTP_USER_AGENT", ""), 1000)
    fields["country"] = _country_from_headers(request)
    recorded = record_click(offer, publisher_id, **fields)
    recorded.offer = offer
    return HttpResponseRedirect(render(offer.destination_url, click_context(recorded), "url"))


def _text(value: str, limit: int) -> str:
    """A click is never refused for its parameters: cut to size, drop NULs (PostgreSQL
    cannot store them)."""
    return value.replace("\x00", "")[:limit]


def _country_from_headers(request) -> str:
    for header in COUNTRY_HEADERS:
        code = request.META.get(header, "").strip().upper()
        if len(code) == 2 and code.isalpha():
            return code
    return ""


@tracker_endpoint
def conversion(request):
    try:
        params = request_params(request)
        _refuse_nul_characters(params)
        api_key = _authenticate(request, params)
        found = _click_for(params, api_key, client_ip(request))
        values = _conversion_values(params, found)
    except BadRequest as problem:
        return problem.response()
    result = record_conversion(found, **values)
    return JsonResponse(
        {
            "conversion_id": result.conversion.pk,
            "transaction_id": result.conversion.transaction_id,
            "duplicate": result.duplicate,
            "postbacks_queued": result.postbacks_queued,
        }
    )


def _refuse_nul_characters(params: dict[str, str]) -> None:
    errors = {
        name: ["Contains a NUL character."] for name, value in params.items() if "\x00" in value
    }
    if errors:
        raise BadRequest(errors)


def _authenticate(request, params):
    raw_key = raw_key_from_request(request, params)
    if not raw_key:
        raise BadRequest(
            {"key": ["An API key is required: Authorization: Bearer <key>, or key=<key>."]}, 401
        )
    api_key = authenticate_api_key(raw_key)
    if api_key is None:
        raise BadRequest({"key": ["The API key is not valid."]}, 401)
    return api_key


def _click_for(params, api_key, ip) -> Click:
    transaction_id = (params.get("transaction_id") or "").strip()
    if not transaction_id:
        raise BadRequest({"transaction_id": ["This field is required."]})
    found = (
        Click.objects.select_related("offer__advertiser")
        .filter(transaction_id=transaction_id)
        .first()
    )
    if found is None:
        raise BadRequest({"transaction_id": [f"Unknown transaction ID {transaction_id!r}."]}, 404)
    advertiser = found.offer.advertiser
    if not api_key.is_staff:
        if api_key.advertiser_id != advertiser.pk:
            raise BadRequest({"key": ["This API key does not own the click's offer."]}, 403)
        if not ip_allowed(advertiser, ip):
            raise BadRequest(
                {"ip": [f"Requests from {ip} are not in the advertiser's IP allowlist."]}, 403
            )
    window = timezone.timedelta(days=found.offer.attribution_window_days)
    if timezone.now() - found.created > window:
        raise BadRequest(
            {
                "transaction_id": [
                    f"The click is older than the offer's "
                    f"{found.offer.attribution_window_days}-day attribution window."
                ]
            }
        )
    return found


def _conversion_values(params, found: Click) -> dict:
    errors = {}
    values = {
        "event": None,
        "amount": None,
        "currency": None,
        "order_id": (params.get("order_id") or "").strip(),
        "status": (params.get("status") or ConversionStatus.APPROVED).strip().lower(),
    }
    event = (params.get("event") or "").strip()
    if event:
        values["event"] = _find_event(found.offer_id, event)
        if values["event"] is None:
            errors["event"] = [
                f"Offer {found.offer_id} has no event {event!r} (give its name or Event ID)."
            ]
    amount = (params.get("amount") or "").strip()
    if amount:
        try:
            values["amount"] = Decimal(amount)
            if not values["amount"].is_finite() or values["amount"] < 0:
                raise InvalidOperation
            if abs(values["amount"]) >= Decimal("1e8"):
                raise InvalidOperation
        except InvalidOperation:
            errors["amount"] = [f"{amount!r} is not a non-negative decimal number."]
    currency = (params.get("currency") or "").strip().upper()
    if currency:
        if pycountry.currencies.get(alpha_3=currency) is None:
            errors["currency"] = [f"{currency!r} is not an ISO 4217 currency code."]
        values["currency"] = currency
    if len(values["order_id"]) > 255:
        errors["order_id"] = ["At most 255 characters."]
    if values["status"] not in (ConversionStatus.APPROVED, ConversionStatus.PENDING):
        errors["status"] = [f"{values['status']!r} is not one of: approved, pending."]
    if errors:
        raise BadRequest(errors)
    return values


def _find_event(offer_id: int, name_or_id: str) -> OfferEvent | None:
    events = OfferEvent.objects.filter(offer_id=offer_id)
    by_name = events.filter(name=name_or_id).first()
    if by_name is not None or not name_or_id.isdigit():
        return by_name
    return events.filter(pk=int(name_or_id)).first()
