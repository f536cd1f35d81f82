"""Cursor pagination, newest first; a bad cursor or page size is a 400 naming it."""

from django.utils.dateparse import parse_datetime
from rest_framework import exceptions
from rest_framework.pagination import CursorPagination

from integr8.times import to_utc

MAX_PAGE_SIZE = 1000


class NewestFirst(CursorPagination):
    """Pages by a cursor, never by COUNT(*): cheap on millions of rows."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    ordering: str | tuple[str, ...] = "-id"

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise exceptions.ValidationError(
                {"page_size": [f"Give a whole number from 1 to {self.max_page_size}."]}
            )
        return size

    def get_schema_operation_parameters(self, view):
        """DRF's, with the page size's bounds: get_page_size refuses others with a 400."""
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    f"Rows per page, 1 to {self.max_page_size} (default {self.page_size})."
                )
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                    "default": self.page_size,
                }
        return parameters

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound:
            cursor = None
            valid = False
        else:
            valid = (
                cursor is None or cursor.position is None or self.valid_position(cursor.position)
            )
        if not valid:
            raise exceptions.ValidationError({"cursor": ["Invalid cursor."]})
        return cursor

    def valid_position(self, position: str) -> bool:
        try:
            return abs(int(position)) < 2**63
        except ValueError:
            return False


class NewestCreatedFirst(NewestFirst):
    """By creation time; ties keep a stable order by id."""

    ordering = ("-created", "-id")

    def valid_position(self, position: str) -> bool:
        try:
            moment = parse_datetime(position)
            return moment is not None and to_utc(moment) is not None
        except ValueError:
            return False
