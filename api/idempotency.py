"""Idempotency-Key: a retried request returns the first answer and does nothing twice.

The key is claimed (a row inserted) before the work, in the same transaction: a second
request with the same key waits for the first to commit and then gets its stored answer.
A request that fails rolls back its claim with everything else, so it may be retried.
"""

import hashlib
import json
import re
from collections.abc import Callable

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from rest_framework import exceptions, status
from rest_framework.response import Response

from api.access import caller_id
from api.errors import Conflict, Unprocessable
from api.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")  # visible ASCII, no spaces
IN_PROGRESS = 0


def idempotent(request, payload, work: Callable[[], Response]) -> Response:
    """Run work() once per (caller, Idempotency-Key); `payload` is the validated request."""
    key = request.headers.get(HEADER)
    if key is None:
        return work()
    if not KEY_PATTERN.fullmatch(key):
        raise exceptions.ValidationError({HEADER: ["Use 1 to 255 visible ASCII characters."]})
    caller = caller_id(request.user)
    fingerprint = _fingerprint(request, payload)
    with transaction.atomic():
        IdempotencyRecord.objects.expired().delete()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    caller=caller,
                    key=key,
                    fingerprint=fingerprint,
                    response_status=IN_PROGRESS,
                    response_body={},
                )
        except IntegrityError:
            record = None
        if record is not None:
            response = work()
            if status.is_success(response.status_code):
                record.response_status = response.status_code
                record.response_body = _jsonable(response.data)
                record.save(update_fields=["response_status", "response_body"])
            else:
                record.delete()
            return response
    return _replay(caller, key, fingerprint)


def _replay(caller: str, key: str, fingerprint: str) -> Response:
    record = IdempotencyRecord.objects.live().filter(caller=caller, key=key).first()
    if record is None or record.response_status == IN_PROGRESS:
        raise Conflict("A request with this Idempotency-Key is still in progress.", key=HEADER)
    if record.fingerprint != fingerprint:
        raise Unprocessable(
            "This key was already used for a different request; use a new key.", key=HEADER
        )
    response = Response(record.response_body, status=record.response_status)
    response[REPLAYED_HEADER] = "true"
    return response


def _fingerprint(request, payload) -> str:
    text = json.dumps(
        [request.method, request.path, payload], sort_keys=True, cls=DjangoJSONEncoder
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _jsonable(data):
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))
