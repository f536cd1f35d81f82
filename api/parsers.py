"""DRF's JSON parser with the limits of the tracker endpoints (offers/params.py).

json.load recurses on nesting: 2 KB of brackets was a RecursionError, a 500. Here a body
nested deeper than MAX_JSON_DEPTH is a ParseError (a 400 under `body`, api/errors.py), and a
body over DATA_UPLOAD_MAX_MEMORY_SIZE raises RequestDataTooBig (a 413 under `body`) whatever
stream DRF hands over: DRF 3.18 passes Django's size-checked request.body, but that is DRF's
choice, not its contract.
"""

import io

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from offers.params import MAX_JSON_DEPTH, TOO_DEEP, nested_deeper_than, too_large_message


class LimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        raw = read_at_most(stream, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        if nested_deeper_than(raw, MAX_JSON_DEPTH):
            raise ParseError(TOO_DEEP)
        try:
            return super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError:  # e.g. UTF-16, which the bracket count does not read
            raise ParseError(TOO_DEEP) from None


def read_at_most(stream, limit: int | None) -> bytes:
    """The whole stream, or RequestDataTooBig once it is longer than limit (None: no limit)."""
    if limit is None:
        return stream.read()
    raw = stream.read(limit + 1)  # one byte past the limit tells, as Django's request.body
    if len(raw) > limit:
        raise RequestDataTooBig(too_large_message())
    return raw
