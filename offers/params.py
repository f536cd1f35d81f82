"""Reading parameters the way trackers send them: query string, form, or JSON."""

import json

from django.http import HttpRequest, JsonResponse


class BadRequest(Exception):
    """Carries the {field: [messages]} of a 4xx answer."""

    def __init__(self, errors: dict, status: int = 400):
        super().__init__(errors)
        self.errors = errors
        self.status = status

    def response(self) -> JsonResponse:
        return JsonResponse({"errors": self.errors}, status=self.status)


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
        params.update({key: request.POST.get(key) for key in request.POST})
    return params


def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)
