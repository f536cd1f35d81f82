"""The one filter implementation behind /logs/, its CSV export and the API (SPEC §7).

Query string, per column:
    <column>=v            Is: repeat the parameter for any-of
    <column>__not=v       Is not: none-of; rows whose value is empty or NULL are kept
    <column>__contains=v  Contains: case-insensitive substring, numeric columns too;
                          repeated, every value must be contained (filters combine with AND)
    created_after=…       ISO 8601, inclusive
    created_before=…      ISO 8601, exclusive
trigger (a four-value enum) takes Is and Is not only: trigger__contains answers 400.

`filter_logs()` is the entry point; callers pass their own parameters (page cursors,
`format`) in `ignore`.
"""

from collections.abc import Iterable, Mapping

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import QuerySet
from django.utils.datastructures import MultiValueDict

from integr8.times import to_utc
from postbacks.models import LogStatus, PostbackLog, PostbackType, Trigger

INT_MAX = 2**31 - 1
BIGINT_MAX = 2**63 - 1
VALUE_MAX_LENGTH = 2000

IS, IS_NOT, CONTAINS = "is", "not", "contains"
OPERATOR_SUFFIXES = {IS: "", IS_NOT: "__not", CONTAINS: "__contains"}
TIME_PARAMETERS = ("created_after", "created_before")


class LabelChoiceField(forms.Field):
    """An enum value given as its JSON value (`success`) or its label (`Success`)."""

    def __init__(self, choices, noun: str, **kwargs):
        super().__init__(**kwargs)
        self.noun = noun
        self.labels = [label for _, label in choices]
        self.lookup = {}
        for value, label in choices:
            self.lookup[value.lower()] = value
            self.lookup[str(label).lower()] = value

    def clean(self, value):
        try:
            return self.lookup[value.strip().lower()]
        except KeyError:
            options = " or ".join(", ".join(self.labels).rsplit(", ", 1))
            raise ValidationError(f'Unknown {self.noun} "{value}": use {options}.') from None


class DigitsField(forms.CharField):
    """A Contains value on a numeric column: digits only."""

    def clean(self, value):
        value = super().clean(value)
        if not value.isdigit():
            raise ValidationError(f'"{value}" is not a number: use digits only.')
        return value


class WholeNumberField(forms.IntegerField):
    def clean(self, value):
        try:
            return super().clean(value)
        except ValidationError:
            raise ValidationError(f'"{value}" is not a whole number (0 or more).') from None


class ValuesField(forms.Field):
    """Every value of a repeatable query parameter, each cleaned by `item`."""

    widget = forms.MultipleHiddenInput

    def __init__(self, item: forms.Field, **kwargs):
        kwargs["required"] = False
        super().__init__(**kwargs)
        self.item = item

    def clean(self, values):
        if isinstance(values, str):
            values = [values]
        cleaned, errors = [], []
        for value in values or []:
            if value == "":
                continue  # an empty filter row in the UI is no filter
            try:
                cleaned.append(self.item.clean(value))
            except ValidationError as error:
                errors.extend(error.messages)
        if errors:
            raise ValidationError(errors)
        return cleaned


def few_names_containing(database: str, values: list[str]) -> list[str] | None:
    """On PostgreSQL, the distinct postback names that contain every value, or None when
    more than NAMES_CAP do.

    There are few names (one per config) behind millions of rows, and their trigrams
    ("pub", "ack"…) are in nearly every row, so a trigram index is slow for them. The
    names are listed in a small table that a trigger keeps (logs 0005), and
    `postback_name IN (…)` then reads just the matching rows from the btree.
    """
    connection = connections[database]
    if connection.vendor != "postgresql":
        return None
    patterns = [f"%{connection.ops.prep_for_like_query(value)}%" for value in values]
    with connection.cursor() as cursor:
        cursor.execute(MATCHING_NAMES, [patterns, NAMES_CAP + 1])
        names = [row[0] for row in cursor.fetchall()]
    return None if len(names) > NAMES_CAP else names


# The same UPPER … LIKE as Django's icontains, every value.
MATCHING_NAMES = """
SELECT name FROM logs_postbackname
WHERE UPPER(name) LIKE ALL (SELECT UPPER(p) FROM unnest(%s::text[]) AS p)
LIMIT %s
"""
NAMES_CAP = 5000


class ColumnFilter(django_filters.Filter):
    """One column under one operator: Is (any-of), Is not (none-of) or Contains."""

    field_class = ValuesField

    def __init__(self, column: str, operator: str, item: forms.Field):
        super().__init__(field_name=column, item=item)
        self.operator = operator

    def filter(self, qs, values):
        if not values:
            return qs
        if self.operator == IS:
            return qs.filter(**{f"{self.field_name}__in": values})
        if self.operator == IS_NOT:
            # exclude() on a nullable column keeps NULL rows; blank strings never match.
            return qs.exclude(**{f"{self.field_name}__in": values})
        if self.field_name == "postback_name":
            names = few_names_containing(qs.db, values)
            if names is not None:
                return qs.filter(postback_name__in=names)
        for value in values:
            qs = qs.filter(**{f"{self.field_name}__icontains": str(value)})
        return qs


def _text(max_length: int = VALUE_MAX_LENGTH) -> forms.Field:
    return forms.CharField(max_length=max_length, strip=False)


def _column_fields() -> dict[str, tuple[forms.Field, forms.Field | None]]:
    """Per column: the field that cleans an Is/Is not value and one for Contains (None:
    the column has no Contains, e.g. trigger, a short enum)."""
    status = LabelChoiceField(LogStatus.choices, "status")
    postback_type = LabelChoiceField(PostbackType.choices, "postback type")
    bigint = WholeNumberField(min_value=0, max_value=BIGINT_MAX)
    digits = DigitsField(max_length=20)
    return {
        "status": (status, _text()),
        "postback_name": (_text(), _text()),
        "postback_type": (postback_type, _text()),
        "offer_id": (bigint, digits),
        "publisher_id": (bigint, digits),
        "event_id": (bigint, digits),
        "transaction_id": (_text(), _text()),
        "response_code": (WholeNumberField(min_value=0, max_value=INT_MAX), digits),
        "url": (_text(), _text()),
        "error": (_text(), _text()),
        "server_response": (_text(), _text()),
        "trigger": (LabelChoiceField(Trigger.choices, "trigger"), None),
    }


COLUMN_FIELDS = _column_fields()
COLUMNS = tuple(COLUMN_FIELDS)
# Per column, the operators its parameters take (trigger: Is and Is not only).
COLUMN_OPERATORS: dict[str, tuple[str, ...]] = {
    column: tuple(op for op in OPERATOR_SUFFIXES if op != CONTAINS or contains is not None)
    for column, (_, contains) in COLUMN_FIELDS.items()
}
# Parameters of an operator a column does not take, with the message they answer.
UNSUPPORTED_PARAMETERS = {
    column + OPERATOR_SUFFIXES[CONTAINS]: f"{column} takes no Contains: use {column}= (Is) "
    f"or {column}__not= (Is not)."
    for column, operators in COLUMN_OPERATORS.items()
    if CONTAINS not in operators
}


class UtcIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """ISO 8601 in, UTC out; offsets no database can store are a validation error."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return to_utc(moment)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class PostbackLogFilterSet(django_filters.FilterSet):
    created_after = UtcIsoDateTimeFilter(field_name="created", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created", lookup_expr="lt")

    class Meta:
        model = PostbackLog
        fields: list[str] = []

    def __init__(self, data, queryset, only: set[str]):
        # Build only the filters the query string uses: each one costs form fields that
        # are deep-copied per request, and /logs/ must answer in milliseconds.
        self.base_filters: dict[str, django_filters.Filter] = {
            name: filter_ for name, filter_ in type(self).base_filters.items() if name in only
        }
        super().__init__(data, queryset=queryset)

    @classmethod
    def get_filters(cls):
        filters = super().get_filters()
        for column, (is_field, contains_field) in COLUMN_FIELDS.items():
            filters[column] = ColumnFilter(column, IS, is_field)
            filters[f"{column}__not"] = ColumnFilter(column, IS_NOT, is_field)
            if contains_field is not None:
                filters[f"{column}__contains"] = ColumnFilter(column, CONTAINS, contains_field)
        return filters


PARAMETERS = frozenset(PostbackLogFilterSet.base_filters)


def _as_multivalue(params: Mapping) -> MultiValueDict:
    if isinstance(params, MultiValueDict):  # e.g. a QueryDict
        return params
    return MultiValueDict(
        {
            key: list(value) if isinstance(value, list | tuple) else [value]
            for key, value in params.items()
        }
    )


def _time_errors(filterset: PostbackLogFilterSet) -> dict[str, list[str]]:
    errors = {}
    for name in TIME_PARAMETERS:
        if name in filterset.form.errors:
            value = filterset.form.data.get(name)
            errors[name] = [
                f'"{value}" is not a date or time: use ISO 8601, e.g. 2026-01-31T14:00:00Z.'
            ]
    return errors


def filter_logs(
    params: Mapping, queryset: QuerySet | None = None, ignore: Iterable[str] = ()
) -> tuple[QuerySet, dict[str, list[str]]]:
    """Apply the §7 query string to PostbackLog, newest first.

    Returns (queryset, errors); errors map each bad parameter to messages, and with
    errors the queryset is empty.
    """
    params = _as_multivalue(params)
    if queryset is None:
        queryset = PostbackLog.objects.all()
    ignored = set(ignore)
    errors: dict[str, list[str]] = {
        name: [UNSUPPORTED_PARAMETERS.get(name, "Unknown filter parameter.")]
        for name in params
        if name not in PARAMETERS and name not in ignored
    }
    filterset = PostbackLogFilterSet(params, queryset=queryset, only=set(params) & PARAMETERS)
    if not filterset.is_valid():
        for name, messages in filterset.form.errors.items():
            errors[name] = list(messages)
        errors.update(_time_errors(filterset))
    if errors:
        return queryset.none(), errors
    return filterset.qs.order_by("-id"), {}


def active_filters(params: Mapping) -> list[tuple[str, str, str]]:
    """The (column, operator, value) rows a query string holds, for the filter bar."""
    params = _as_multivalue(params)
    rows = []
    for column in COLUMNS:
        for operator in COLUMN_OPERATORS[column]:
            for value in params.getlist(column + OPERATOR_SUFFIXES[operator]):
                if value != "":
                    rows.append((column, operator, value))
    return rows
