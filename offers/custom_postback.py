"""GET|POST /api/v1/custom-postback/ — installs from trackers without an integration.

See docs/custom-postback.md for the fields, formats and the choices made.
"""

from django.http import HttpRequest, JsonResponse

from integr8.ratelimit import limited
from offers.auth import authenticate_api_key, client_ip, ip_allowed, raw_key_from_request
from offers.installs import json_type_problems, parse_install, record_install
from offers.models import Advertiser
from offers.params import BadRequest, json_body, request_params, tracker_endpoint


@tracker_endpoint
@limited("custom-postback", "CUSTOM_POSTBACK_RATE_PER_IP")
def custom_postback(request: HttpRequest) -> JsonResponse:
    try:
        params = request_params(request)
        advertiser = _advertiser_for(request, params)
        install = parse_install(params, advertiser, problems=_json_type_problems(request))
    except BadRequest as problem:
        response = problem.response()
        if problem.status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="integr8"'
        return response
    result = record_install(advertiser, install)
    return JsonResponse(
        {
            "conversion_id": result.conversion.pk,
            "transaction_id": result.conversion.transaction_id,
            "duplicate": result.duplicate,
            "publisher_matched": result.publisher_matched,
            "postbacks_queued": result.postbacks_queued,
            "ignored_fields": install.ignored_fields,
        }
    )


def _advertiser_for(request: HttpRequest, params: dict[str, str]) -> Advertiser:
    """The advertiser whose key signed the call, from one of its allowed addresses."""
    raw_key = raw_key_from_request(request, params)
    if not raw_key:
        raise BadRequest(
            {"key": ["An API key is required: Authorization: Bearer <key>, or api_key=<key>."]},
            401,
        )
    api_key = authenticate_api_key(raw_key)
    if api_key is None:
        raise BadRequest({"key": ["The API key is not valid."]}, 401)
    advertiser = api_key.advertiser
    if advertiser is None:
        raise BadRequest(
            {
                "key": [
                    "This is a staff key, not an advertiser's: an install belongs to an "
                    "advertiser, so call with that advertiser's API key."
                ]
            },
            403,
        )
    ip = client_ip(request)
    if not ip_allowed(advertiser, ip):
        raise BadRequest(
            {"ip": [f"Requests from {ip} are not in the advertiser's IP allowlist."]}, 403
        )
    return advertiser


def _json_type_problems(request: HttpRequest) -> dict[str, list[str]]:
    # request_params has already parsed (and vetted) the body and kept it on the request;
    # only its value types matter here.
    if request.method != "POST" or request.content_type != "application/json":
        return {}
    return json_type_problems(json_body(request))
