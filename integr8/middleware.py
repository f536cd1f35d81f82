"""JSON refusals for the API (/api/) and the advertisers' endpoint (/conversion/).

Their answers are JSON, errors included: {"errors": {field: [messages]}} (SPEC §4, §8). Some
requests are refused before any of our code runs, though, and Django would answer those
with its HTML 400 page. This middleware, near the top of MIDDLEWARE:

- answers a query string longer than MAX_QUERY_STRING with a 414, on every path (JSON on
  these, plain text elsewhere). bin/run-all lets gunicorn pass longer request lines, so this
  answer, not gunicorn's HTML one, is what a caller gets;
- on these paths, checks up front what Django refuses only once something reads it (and so,
  from inside another middleware, as HTML): the Host header, the number of query parameters
  and a declared body larger than DATA_UPLOAD_MAX_MEMORY_SIZE (413); and refuses a JSON
  body nested deeper than MAX_JSON_DEPTH (400), also on actions that ignore their body;
- turns Django's refusals raised in a view (process_exception), and any HTML 4xx page Django
  still makes for these paths (e.g. its 404 for /api/nothing/), into the JSON shape.
"""

import logging

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    DisallowedHost,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
)
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from rest_framework.response import Response as ApiResponse

from offers.params import MAX_JSON_DEPTH, TOO_DEEP, nested_deeper_than, too_large_message

JSON_PATHS = ("/api/", "/conversion/")
BODY_METHODS = ("POST", "PUT", "PATCH")
# The key an HTML error page's message goes under once it is JSON; others: "request".
PAGE_KEYS = {404: "detail", 405: "method", 413: "body", 414: "query_string"}


class JsonRefusalsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        speaks_json = request.path_info.startswith(JSON_PATHS)
        refusal = _long_query_string(request, speaks_json)
        if refusal is None and speaks_json:
            refusal = _unreadable(request)
        if refusal is not None:
            return refusal
        response = self.get_response(request)
        return _page_as_json(response) if speaks_json else response

    def process_exception(self, request: HttpRequest, exception: Exception) -> JsonResponse | None:
        """Django's refusals raised by a view, e.g. reading a body it cannot hold."""
        if not request.path_info.startswith(JSON_PATHS):
            return None
        return _refusal_for(request, exception, key="body")


def error(key: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"errors": {key: [message]}}, status=status)


def _long_query_string(request: HttpRequest, speaks_json: bool) -> HttpResponse | None:
    # WSGI gives the query string as Latin-1 text of the raw bytes: its length is in bytes.
    length, limit = len(request.META.get("QUERY_STRING", "")), settings.MAX_QUERY_STRING
    if length <= limit:
        return None
    message = f"The query string is {length} bytes long; at most {limit} are accepted."
    if speaks_json:
        return error("query_string", message, 414)
    return HttpResponse(message, status=414, content_type="text/plain; charset=utf-8")


def _unreadable(request: HttpRequest) -> JsonResponse | None:
    """Django's own refusals, caught here before anything else reads the request."""
    try:
        request.get_host()
        request.GET  # noqa: B018 (parsed here once; the view gets the same QueryDict)
    except SuspiciousOperation as exc:  # DisallowedHost, TooManyFieldsSent
        return _refusal_for(request, exc, key="query_string")
    return _body_problem(request)


def _body_problem(request: HttpRequest) -> JsonResponse | None:
    """A body too large to read, or JSON nested too deep, even where the view ignores it."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is not None and _declared_length(request) > limit:
        # No endpoint here takes file uploads, so this holds for multipart bodies too.
        return error("body", too_large_message(), 413)
    if request.method not in BODY_METHODS or request.content_type != "application/json":
        return None
    try:
        body = request.body  # kept on the request: the view reads the same bytes
    except RequestDataTooBig:  # a body longer than its Content-Length said
        return error("body", too_large_message(), 413)
    return error("body", TOO_DEEP, 400) if nested_deeper_than(body, MAX_JSON_DEPTH) else None


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0  # as Django's WSGIRequest reads it: no body


def _refusal_for(request: HttpRequest, exc: Exception, key: str) -> JsonResponse | None:
    """The JSON answer to one of Django's request-reading errors; None for anything else."""
    if isinstance(exc, SuspiciousOperation):
        # Logged as Django's own handler does (response_for_exception), which is skipped here.
        logger = logging.getLogger(f"django.security.{exc.__class__.__name__}")
        logger.error(str(exc), extra={"status_code": 400, "request": request})
    if isinstance(exc, DisallowedHost):
        return error("host", "The Host header names no host this server answers to.", 400)
    if isinstance(exc, RequestDataTooBig):
        return error("body", too_large_message(), 413)
    if isinstance(exc, TooManyFieldsSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        return error(key, f"More than {limit} parameters.", 400)
    if isinstance(exc, MultiPartParserError):
        return error("body", f"The multipart body cannot be read: {exc}", 400)
    if isinstance(exc, (SuspiciousOperation, BadRequest)):
        return error("request", "The request cannot be read.", 400)
    return None


def _page_as_json(response: HttpResponse) -> HttpResponse:
    """An HTML 4xx page that Django made for one of these paths, in the JSON error shape.

    DRF's answers are left alone: they are JSON, or its browsable HTML when asked for."""
    if not 400 <= response.status_code < 500 or isinstance(response, ApiResponse):
        return response
    if response.get("Content-Type", "").startswith("application/json"):
        return response
    key = PAGE_KEYS.get(response.status_code, "request")
    answer = error(key, f"{response.reason_phrase}.", response.status_code)
    if response.has_header("Allow"):
        answer["Allow"] = response["Allow"]
    return answer


class ContentSecurityPolicyMiddleware:
    """Every answer carries settings.CONTENT_SECURITY_POLICY (SPEC §14) unless a view set
    its own: scripts only from this site, never inline (no page of ours has one)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        return response
