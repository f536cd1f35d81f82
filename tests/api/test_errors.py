"""api.errors: every kind of failure becomes {"errors": {key: [messages]}} with its status."""

import pytest
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from rest_framework import exceptions

from api.errors import exception_handler


@pytest.mark.parametrize(
    "exc, status, body",
    [
        (
            exceptions.Throttled(wait=5),
            429,
            {"throttle": ["Request was throttled. Expected available in 5 seconds."]},
        ),
        (
            IntegrityError("duplicate key"),
            409,
            {"non_field_errors": ["This conflicts with an existing record."]},
        ),
        (DjangoValidationError({"name": ["Too long."]}), 400, {"name": ["Too long."]}),
        (RequestDataTooBig("Too large."), 413, {"body": ["Too large."]}),
        (TooManyFieldsSent("Too many."), 400, {"body": ["Too many."]}),
        (exceptions.ParseError("Too deep."), 400, {"body": ["Too deep."]}),
        (DjangoValidationError("Bad."), 400, {"non_field_errors": ["Bad."]}),
        (exceptions.ValidationError(["Not a dict."]), 400, {"non_field_errors": ["Not a dict."]}),
        (
            exceptions.ValidationError({"ids": {0: ["Bad ID."], 2: ["Too long."]}}),
            400,
            {"ids.0": ["Bad ID."], "ids.2": ["Too long."]},
        ),
        (
            exceptions.ValidationError({"ids": [["Bad ID."], [], ["Too long."]]}),
            400,
            {"ids.0": ["Bad ID."], "ids.2": ["Too long."]},
        ),
    ],
)
def test_errors_have_one_shape(exc, status, body):
    response = exception_handler(exc, {})
    assert response.status_code == status
    assert response.data == {"errors": body}


def test_unexpected_errors_are_left_to_django():
    assert exception_handler(RuntimeError("boom"), {}) is None
