"""filter_logs: the §7 query string on every column, with each operator."""

from datetime import timedelta

import pytest
from django.db import connection
from django.http import QueryDict

from logs.filters import COLUMNS, filter_logs

ALL = {"click", "conversion", "event", "not_found", "unauthorised", "timeout"}


def matching(sample_logs, query: str) -> set[str]:
    queryset, errors = filter_logs(QueryDict(query))
    assert errors == {}
    ids = list(queryset.values_list("id", flat=True))
    names = {log.id: name for name, log in sample_logs.items()}
    return {names[pk] for pk in ids}


CASES = [
    # status
    ("status=Success", {"click", "conversion", "event"}),
    ("status=failed", {"not_found", "unauthorised", "timeout"}),
    ("status__not=Failed", {"click", "conversion", "event"}),
    ("status__contains=FAIL", {"not_found", "unauthorised", "timeout"}),
    # postback_name
    ("postback_name=Install+postback", {"conversion", "timeout"}),
    ("postback_name__not=Install+postback", {"click", "event", "not_found", "unauthorised"}),
    ("postback_name__contains=POSTBACK", {"conversion", "event", "not_found", "timeout"}),
    # postback_type
    ("postback_type=Event", {"event", "not_found"}),
    ("postback_type=click", {"click"}),
    ("postback_type__not=conversion", {"click", "event", "not_found", "unauthorised"}),
    ("postback_type__contains=ject", {"unauthorised"}),
    # offer_id
    ("offer_id=10", {"click", "conversion"}),
    ("offer_id__not=11", {"click", "conversion", "unauthorised", "timeout"}),
    ("offer_id__contains=14", {"timeout"}),
    ("offer_id__contains=1", ALL),
    # publisher_id
    ("publisher_id=8", {"event", "not_found"}),
    ("publisher_id__not=7", {"event", "not_found", "unauthorised"}),
    ("publisher_id__contains=9", {"unauthorised"}),
    # event_id
    ("event_id=5", {"event"}),
    ("event_id__contains=6", {"not_found"}),
    # transaction_id
    ("transaction_id=abc123", {"click"}),
    ("transaction_id__contains=DEF", {"conversion"}),
    # response_code
    ("response_code=404", {"not_found"}),
    ("response_code__not=200", {"not_found", "unauthorised", "timeout"}),
    ("response_code__contains=40", {"not_found", "unauthorised"}),
    ("response_code__contains=0", ALL),
    # url
    ("url=https://clicks.example/c?id=abc123", {"click"}),
    ("url__not=https://clicks.example/c?id=abc123", ALL - {"click"}),
    ("url__contains=PUB.EXAMPLE", {"conversion", "event", "not_found"}),
    # error
    ("error=HTTP+404", {"not_found"}),
    ("error__contains=timeout", {"timeout"}),
    # server_response
    ("server_response=OK", {"click", "conversion", "event"}),
    ("server_response__not=OK", {"not_found", "unauthorised", "timeout"}),
    ("server_response__contains=missing+PARAMETER", {"not_found"}),
    # trigger: the JSON value or the label, any case; Is and Is not only
    ("trigger=refire", {"unauthorised"}),
    ("trigger=Re-fire", {"unauthorised"}),
    ("trigger=RETRY&trigger=test", {"not_found", "timeout"}),
    ("trigger__not=Automatic", {"not_found", "unauthorised", "timeout"}),
    ("trigger__not=automatic&trigger__not=re-FIRE", {"not_found", "timeout"}),
]


@pytest.mark.parametrize(("query", "expected"), CASES, ids=[case[0] for case in CASES])
def test_each_operator_on_each_column(sample_logs, query, expected):
    assert matching(sample_logs, QueryDict(query).urlencode()) == expected


def test_every_column_has_cases():
    covered = {case[0].split("=")[0].split("__")[0] for case in CASES}
    assert covered == set(COLUMNS)


def test_is_not_keeps_rows_without_event_id(sample_logs):
    # Click and Conversion postbacks have no Event ID: excluding event 5 keeps them.
    assert matching(sample_logs, "event_id__not=5") == ALL - {"event"}


def test_is_not_keeps_rows_with_empty_text(sample_logs):
    assert matching(sample_logs, "transaction_id__not=abc123") == ALL - {"click"}
    assert matching(sample_logs, "error__not=HTTP+404") == ALL - {"not_found"}


def test_repeated_is_means_any_of(sample_logs):
    assert matching(sample_logs, "offer_id=10&offer_id=12") == {
        "click",
        "conversion",
        "unauthorised",
    }
    assert matching(sample_logs, "status=Success&status=Failed") == ALL


def test_repeated_is_not_means_none_of(sample_logs):
    assert matching(sample_logs, "offer_id__not=10&offer_id__not=11") == {
        "unauthorised",
        "timeout",
    }


def test_repeated_contains_needs_every_value(sample_logs):
    assert matching(sample_logs, "url__contains=pub.example&url__contains=event") == {
        "event",
        "not_found",
    }


def test_filters_combine_with_and(sample_logs):
    query = "status=failed&publisher_id=8&server_response__contains=missing"
    assert matching(sample_logs, query) == {"not_found"}
    assert matching(sample_logs, "postback_type=event&status__not=failed") == {"event"}


def test_contains_treats_like_wildcards_literally(sample_logs, make_log):
    assert matching(sample_logs, "url__contains=%25") == set()
    assert matching(sample_logs, "url__contains=_") == set()


def test_time_range(sample_logs):
    now = sample_logs["timeout"].created
    after = (now - timedelta(days=1, hours=1)).isoformat()
    before = (now - timedelta(minutes=30)).isoformat()
    params = QueryDict(mutable=True)
    params["created_after"] = after
    assert matching(sample_logs, params.urlencode()) == {
        "event",
        "not_found",
        "unauthorised",
        "timeout",
    }
    params["created_before"] = before
    assert matching(sample_logs, params.urlencode()) == {"event", "not_found", "unauthorised"}


def test_time_range_accepts_dates_and_z_suffix(sample_logs):
    assert matching(sample_logs, "created_before=2000-01-01") == set()
    assert matching(sample_logs, "created_after=2000-01-01T00:00:00Z") == ALL
    assert matching(sample_logs, "created_after=2000-01-01+10:00") == ALL


def test_empty_values_are_no_filter(sample_logs):
    assert matching(sample_logs, "status=&url__contains=&created_after=") == ALL


def test_newest_first(sample_logs):
    queryset, _ = filter_logs({})
    ids = list(queryset.values_list("id", flat=True))
    assert ids == sorted(ids, reverse=True)


def test_accepts_a_plain_dict_with_lists(sample_logs):
    queryset, errors = filter_logs({"status": ["failed"], "publisher_id": "8"})
    assert errors == {}
    assert list(queryset) == [sample_logs["not_found"]]


@pytest.mark.parametrize(
    ("query", "parameter", "fragment"),
    [
        ("offer_id=abc", "offer_id", '"abc" is not a whole number'),
        ("event_id__not=-3", "event_id__not", '"-3" is not a whole number'),
        ("offer_id=99999999999999999999", "offer_id", "is not a whole number"),
        ("response_code=4040404040404", "response_code", "is not a whole number"),
        ("response_code__contains=4x", "response_code__contains", '"4x" is not a number'),
        ("created_after=yesterday", "created_after", '"yesterday" is not a date or time'),
        ("created_before=2026-13-45", "created_before", "ISO 8601"),
        ("status=maybe", "status", 'Unknown status "maybe": use Success, Failed or Skipped.'),
        ("postback_type=install", "postback_type", "use Click, Conversion, Event or Rejection"),
        ("colour=red", "colour", "Unknown filter parameter."),
        ("status__is=success", "status__is", "Unknown filter parameter."),
        ("url__contains=a%00b", "url__contains", "Null characters are not allowed."),
    ],
)
def test_bad_parameters_are_named(sample_logs, query, parameter, fragment):
    queryset, errors = filter_logs(QueryDict(query))
    assert list(errors) == [parameter]
    assert fragment in " ".join(errors[parameter])
    assert list(queryset) == []


def test_every_bad_parameter_is_reported_at_once(sample_logs):
    _, errors = filter_logs(QueryDict("offer_id=abc&created_after=yesterday&status=maybe&x=1"))
    assert set(errors) == {"offer_id", "created_after", "status", "x"}


def test_ignored_parameters_are_not_errors(sample_logs):
    queryset, errors = filter_logs(QueryDict("before=3&status=failed"), ignore=("before",))
    assert errors == {}
    assert queryset.count() == 3


def test_filters_a_given_queryset(sample_logs):
    from postbacks.models import PostbackLog

    base = PostbackLog.objects.filter(publisher_id=7)
    queryset, _ = filter_logs(QueryDict("status=failed"), queryset=base)
    assert list(queryset) == [sample_logs["timeout"]]


@pytest.mark.parametrize("cap", [5000, 2])  # 2: too many names, the plain LIKE path
def test_postback_name_contains_matches_like_icontains(make_log, monkeypatch, cap):
    monkeypatch.setattr("logs.filters.NAMES_CAP", cap)
    names = ["Pub 7 installs", "Pub 70 installs", "50%_off\\deals", "Café Événements", "other"]
    logs = {name: make_log(postback_name=name) for name in names}

    def names_for(query: str) -> set[str]:
        queryset, errors = filter_logs(QueryDict(query))
        assert errors == {}
        return set(queryset.values_list("postback_name", flat=True))

    assert names_for("postback_name__contains=pub+7") == {"Pub 7 installs", "Pub 70 installs"}
    assert names_for("postback_name__contains=PUB+7+INSTALLS") == {"Pub 7 installs"}
    assert names_for("postback_name__contains=%25_") == {"50%_off\\deals"}
    assert names_for("postback_name__contains=f\\d") == {"50%_off\\deals"}
    assert names_for("postback_name__contains=_") == {"50%_off\\deals"}
    assert names_for("postback_name__contains=caf") == {"Café Événements"}
    assert names_for("postback_name__contains=pub&postback_name__contains=70") == {
        "Pub 70 installs"
    }
    assert names_for("postback_name__contains=nothing") == set()
    assert len(logs) == 5


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL trigger")
def test_every_logged_name_is_listed_for_the_contains_filter(make_log):
    from postbacks.models import PostbackLog

    make_log(postback_name="Pub 9 installs")
    PostbackLog.objects.bulk_create(
        [PostbackLog(postback_name=name, status="failed", url="u") for name in ("B", "A", "B")]
    )
    PostbackLog.objects.filter(postback_name="A").update(postback_name="Renamed A")

    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM logs_postbackname ORDER BY name")
        listed = [row[0] for row in cursor.fetchall()]
    assert listed == ["A", "B", "Pub 9 installs", "Renamed A"]
    queryset, _ = filter_logs(QueryDict("postback_name__contains=renamed"))
    assert list(queryset.values_list("postback_name", flat=True)) == ["Renamed A"]
