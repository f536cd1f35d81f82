"""Reading parameters the way trackers send them: query string, form, or JSON."""

import json
from functools import wraps

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt

ALLOWED_METHODS = ("GET", "POST")


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
    params = {key: request.GET.get(key) for key in request.GET}
    if request.method != "POST":
        return params
    content_type = request.content_type or ""
    if content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise BadRequest({"body": ["The body is not valid JSON."]}) from None
        if not isinstance(body, dict):
            raise BadRequest({"body": ["The JSON body must be an object."]})
        params.update({key: _as_text(value) for key, value in body.items()})
    else:
        params.update({key: request.POST.get(key) for key in _form(request)})
    return params


def _form(request: HttpRequest):
    try:
        return request.POST
    except MultiPartParserError as exc:
        raise BadRequest({"body": [f"The multipart body cannot be read: {exc}"]}) from None
    except TooManyFieldsSent:
        raise BadRequest({"body": ["The form has too many fields."]}) from None
    except RequestDataTooBig:
        raise BadRequest({"body": ["The body is too large."]}, 413) from None


def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)
