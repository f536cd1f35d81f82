"""Whatever the query string, /logs/ and the CSV answer 200 or a clear 400, never a 500."""

from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logs.filters import PARAMETERS

NAMES = sorted(PARAMETERS) + ["before", "after", "colour", "status__is", ""]
VALUES = st.one_of(
    st.text(max_size=30),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["Success", "failed", "EVENT", "2026-01-31T14:00:00Z", "%", "_", "\\"]),
)


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(st.tuples(st.one_of(st.sampled_from(NAMES), st.text(max_size=10)), VALUES), max_size=5)
)
def test_any_query_string_is_200_or_400(ops_client, sample_logs, pairs):
    query = urlencode(pairs)
    page = ops_client.get(f"/logs/?{query}")
    assert page.status_code in (200, 400), query
    export = ops_client.get(f"/logs/export.csv?{query}")
    assert export.status_code in (200, 400), query
    if export.status_code == 200:
        b"".join(export.streaming_content)
