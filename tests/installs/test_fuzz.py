"""Whatever a tracker sends, the answer is a 200 or a 400 naming fields, never a 500."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offers.installs import FIELDS, IDENTIFIER_RULE
from tests.installs.conftest import minimal, send

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=300)
fields = st.dictionaries(st.sampled_from(sorted(FIELDS)), text | st.integers(), max_size=6)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(values=fields, how=st.sampled_from(["get", "form", "json"]))
def test_any_values_get_a_clear_answer(client, advertiser_key, default_offer, values, how):
    response = send(client, how, advertiser_key, minimal(**values))
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        errors = response.json()["errors"]
        assert set(errors) <= FIELDS | {IDENTIFIER_RULE}
        assert all(messages and all(messages) for messages in errors.values())
