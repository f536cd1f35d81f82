"""Public tracking endpoints: the click redirect and the advertiser's conversion call."""

from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.views.decorators.http import require_GET

from integr8.ratelimit import limited
from offers import lookups
from offers.auth import client_ip
from offers.conversions import api_key_for, parse_conversion
from offers.models import parse_consent
from offers.params import BadRequest, request_params, tracker_endpoint
from offers.services import record_click, record_conversion
from postbacks.context import click_context
from postbacks.macros import DEVICE_ID_FIELDS, SUB_FIELDS, render
from privacy.addresses import stored_ip

COUNTRY_HEADERS = ("HTTP_CF_IPCOUNTRY", "HTTP_X_COUNTRY_CODE")


@require_GET
@limited("click", "CLICK_RATE_PER_IP", json=False)
def click(request, offer_id: int, publisher_id: int):
    offer = lookups.active_offer(offer_id)
    if offer is None or not lookups.publisher_is_active(publisher_id):
        raise Http404("Unknown or paused offer or publisher.")
    fields: dict[str, str | None] = {
        name: _text(request.GET.get(name, ""), 255) for name in SUB_FIELDS + DEVICE_ID_FIELDS
    }
    fields["ip"] = stored_ip(client_ip(request)) or None
    fields["user_agent"] = _text(request.META.get("HTTP_USER_AGENT", ""), 1000)
    fields["country"] = _country_from_headers(request)
    # Never refused for a parameter: anything but granted / denied is "not known".
    fields["consent"] = parse_consent(request.GET.get("consent", "")) or ""
    recorded = record_click(offer, publisher_id, **fields)
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
@limited("conversion", "CONVERSION_RATE_PER_IP")
def conversion(request):
    """Thin: every rule about the call lives in offers.conversions."""
    try:
        params = request_params(request)
        api_key = api_key_for(request, params)
        parsed = parse_conversion(params, api_key, client_ip(request))
    except BadRequest as problem:
        return problem.response()
    result = record_conversion(
        parsed.click,
        parsed.event,
        parsed.amount,
        parsed.currency,
        parsed.order_id,
        parsed.status,
        consent=parsed.consent,
    )
    return JsonResponse(
        {
            "conversion_id": result.conversion.pk,
            "transaction_id": result.conversion.transaction_id,
            "duplicate": result.duplicate,
            "postbacks_queued": result.postbacks_queued,
        }
    )
