"""One error shape for the whole API: {"errors": {field_or_param: [messages]}}.

The same shape as /conversion/ answers. Validation errors keep their field names (nested
ones are flattened to dotted paths, e.g. "transaction_ids.3"); other errors are put under
a key naming what was wrong: the credentials, the permission, the method, the body...
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

NON_FIELD_ERRORS = "non_field_errors"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


# The key an error goes under when it is not about one field.
KEYS = {
    exceptions.NotAuthenticated: "authorization",
    exceptions.AuthenticationFailed: "authorization",
    exceptions.PermissionDenied: "permission",
    exceptions.NotFound: "detail",
    exceptions.MethodNotAllowed: "method",
    exceptions.NotAcceptable: "accept",
    exceptions.UnsupportedMediaType: "content_type",
    exceptions.ParseError: "body",
    PayloadTooLarge: "body",
    exceptions.Throttled: "throttle",
}


class KeyedError(exceptions.APIException):
    """An error reported under a chosen key, e.g. the field or header it is about."""

    def __init__(self, detail=None, key: str = NON_FIELD_ERRORS):
        super().__init__(detail)
        self.key = key


class Conflict(KeyedError):
    """The request is valid but clashes with the current state (409)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


class Unprocessable(KeyedError):
    """Well-formed, but cannot be done as asked (422)."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request cannot be processed."
    default_code = "unprocessable"


def exception_handler(exc, context):
    exc = _as_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    response.data = {"errors": _errors(exc, response.data)}
    return response


def _as_api_exception(exc):
    """Database and model errors that are the caller's doing become 4xx, never 500."""
    if isinstance(exc, Http404):
        return exceptions.NotFound(str(exc) or None)
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge(str(exc))
    if isinstance(exc, SuspiciousOperation):  # e.g. too many form fields
        return exceptions.ParseError(str(exc))
    if isinstance(exc, (ProtectedError, RestrictedError)):
        return Conflict(_protected_message(exc))
    if isinstance(exc, IntegrityError):
        return Conflict("This conflicts with an existing record.")
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}
        )
        return exceptions.ValidationError(detail)
    return exc


def _protected_message(exc: ProtectedError | RestrictedError) -> str:
    objects = exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
    kinds = sorted({str(obj._meta.verbose_name_plural) for obj in objects})
    return f"Cannot delete: it is still referenced by {', '.join(kinds)}."


def _errors(exc, data) -> dict[str, list[str]]:
    if isinstance(exc, exceptions.ValidationError):
        return _flatten(data, NON_FIELD_ERRORS)
    key = getattr(exc, "key", None) or next(
        (name for kind, name in KEYS.items() if isinstance(exc, kind)), NON_FIELD_ERRORS
    )
    if isinstance(data, dict) and set(data) == {"detail"}:
        data = data["detail"]
    return _flatten(data, key)


def _flatten(data, key: str) -> dict[str, list[str]]:
    if isinstance(data, dict):
        flat: dict[str, list[str]] = {}
        for name, value in data.items():
            name = str(name)
            path = name if key == NON_FIELD_ERRORS else f"{key}.{name}"
            for sub_key, messages in _flatten(value, path).items():
                flat.setdefault(sub_key, []).extend(messages)
        return flat
    if isinstance(data, (list, tuple)):
        if all(not isinstance(item, (dict, list, tuple)) for item in data):
            return {key: [str(item) for item in data]}
        flat = {}
        for index, item in enumerate(data):
            if item:
                for sub_key, messages in _flatten(item, f"{key}.{index}").items():
                    flat.setdefault(sub_key, []).extend(messages)
        return flat
    return {key: [str(data)]}


@csrf_exempt  # a JSON 404 whatever the method; CSRF's 403 page would hide it
def not_found(request, *args, **kwargs):
    """JSON 404 for any /api/v1/ path that names no endpoint."""
    set_rollback()
    message = "No API endpoint at this path."
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not not_found:
            message += f" Did you mean {request.path}/ (with a trailing slash)?"
    return JsonResponse({"errors": {"detail": [message]}}, status=404)
