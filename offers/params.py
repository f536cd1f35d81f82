"""Reading parameters the way trackers send them: query string, form, or JSON."""

import json
import re
from functools import wraps

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt

ALLOWED_METHODS = ("GET", "POST")
# Unpaired surrogates arrive only through JSON ("\ud800"); no database encodes them.
SURROGATE = re.compile("[\ud800-\udfff]")

# No body Integr8 reads nests deeper than a few levels. Deep nesting is a RecursionError (a
# 500) in json and in every recursive walk after it (json.dumps, serializers, renderers),
# and 2 KB of brackets is enough: refuse it at the door.
MAX_JSON_DEPTH = 32
TOO_DEEP = f"The JSON body is nested deeper than {MAX_JSON_DEPTH} levels."
# A JSON string, or the rest of the text after an unclosed quote: brackets inside strings do
# not nest. Never fails once at a quote, so the scan stays linear on any input.
JSON_STRING = re.compile(rb'"[^"\\]*(?:\\[\s\S]?[^"\\]*)*"?')
# Opening brackets become "(", closing ones ")", everything else is dropped.
BRACKETS = bytes.maketrans(b"[{]}", b"(())")
NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
JSON_BODY = "integr8_json_body"  # the request attribute json_body keeps the parsed body in


class BadRequest(Exception):
    """Carries the {field: [messages]} of a 4xx answer."""

    def __init__(self, errors: dict, status: int = 400):
        super().__init__(errors)
        self.errors = errors
        self.status = status

    def response(self) -> JsonResponse:
        return JsonResponse({"errors": self.errors}, status=self.status)


def tracker_endpoint(view):
    """A server-to-server endpoint: no CSRF, GET or POST only, JSON errors (also for 405)."""

    @csrf_exempt
    @wraps(view)
    def endpoint(request, *args, **kwargs):
        if request.method not in ALLOWED_METHODS:
            message = f"{request.method} is not allowed; use GET or POST."
            response = BadRequest({"method": [message]}, 405).response()
            response["Allow"] = ", ".join(ALLOWED_METHODS)
            return response
        return view(request, *args, **kwargs)

    return endpoint


def request_params(request: HttpRequest) -> dict[str, str]:
    """Query string, then form or JSON body on top; values as single strings."""
    params = {key: request.GET[key] for key in request.GET}
    if request.method != "POST":
        return params
    content_type = request.content_type or ""
    if content_type == "application/json":
        params.update({key: _as_text(value) for key, value in json_body(request).items()})
    else:
        params.update({key: request.POST[key] for key in _form(request)})
    return params


def json_body(request: HttpRequest) -> dict:
    """The JSON object of a POST, parsed once and kept on the request (callers share it)."""
    if not hasattr(request, JSON_BODY):
        setattr(request, JSON_BODY, _json_object(_body(request)))
    return getattr(request, JSON_BODY)


def nested_deeper_than(raw: bytes, limit: int) -> bool:
    """Whether the brackets of a JSON text (UTF-8) nest deeper than limit, without parsing it.

    Each round drops the innermost bracket pairs, all at once and at C speed; a pair left
    after `limit` rounds sits deeper than that, and so does a run of more than `limit`
    opening brackets. Unbalanced brackets are left to the parser to report.
    """
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    brackets = JSON_STRING.sub(b"", raw).translate(BRACKETS, NOT_BRACKETS)
    too_deep = b"(" * (limit + 1)  # found at once in the usual attack, [[[[… or {"a":{"a":…
    for _ in range(limit):
        if not brackets:
            return False
        if too_deep in brackets:
            return True
        brackets = brackets.replace(b"()", b"")
    return b"()" in brackets


def _body(request: HttpRequest) -> bytes:
    try:
        return request.body
    except RequestDataTooBig:
        raise _too_large() from None


def _json_object(raw: bytes) -> dict:
    if nested_deeper_than(raw, MAX_JSON_DEPTH):
        raise BadRequest({"body": [TOO_DEEP]})
    try:
        body = json.loads(raw or b"{}")
    except RecursionError:  # e.g. UTF-16, which the bracket count does not read
        raise BadRequest({"body": [TOO_DEEP]}) from None
    except (ValueError, UnicodeDecodeError):
        raise BadRequest({"body": ["The body is not valid JSON."]}) from None
    if not isinstance(body, dict):
        raise BadRequest({"body": ["The JSON body must be an object."]})
    return body


def _form(request: HttpRequest):
    try:
        return request.POST
    except MultiPartParserError as exc:
        raise BadRequest({"body": [f"The multipart body cannot be read: {exc}"]}) from None
    except TooManyFieldsSent:
        raise BadRequest({"body": ["The form has too many fields."]}) from None
    except RequestDataTooBig:
        raise _too_large() from None


def too_large_message() -> str:
    return f"The body is too large (at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes)."


def _too_large() -> BadRequest:
    return BadRequest({"body": [too_large_message()]}, 413)


def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)
