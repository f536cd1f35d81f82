"""The click path's hand-written INSERT keeps every field, and survives a dead connection."""

import pytest
from django.db import connection

from offers.models import Click


def test_click_insert_stores_every_field(client, offer, publisher):
    params = {f"sub{i}": f"s{i}" for i in range(1, 6)}
    params.update(google_aid="g", ios_ifa="a", ios_ifv="v", os_id="o", windows_aid="w", user_id="u")
    client.get(
        f"/click/{offer.pk}/{publisher.pk}/",
        params,
        HTTP_USER_AGENT="Mozilla/5.0 ünï",
        HTTP_X_COUNTRY_CODE="fr",
        REMOTE_ADDR="2001:db8::1",
    )
    click = Click.objects.get()
    for name, value in params.items():
        assert getattr(click, name) == value
    assert (click.user_agent, click.country, click.ip) == ("Mozilla/5.0 ünï", "FR", "2001:db8::1")
    assert len(click.transaction_id) == 24 and click.created is not None


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL connection handling")
def test_click_survives_a_connection_that_died_while_idle(client, offer, publisher):
    client.get(f"/click/{offer.pk}/{publisher.pk}/")
    connection.ensure_connection()
    connection.connection.close()  # what a PostgreSQL restart does to an idle connection

    response = client.get(f"/click/{offer.pk}/{publisher.pk}/")

    assert response.status_code == 302
    assert Click.objects.count() == 2
