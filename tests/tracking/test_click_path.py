"""The click path's hand-written INSERT keeps every field, survives a dead connection, and
on PostgreSQL goes through its own prepared statement outside a transaction block."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connection, models

from offers import click_insert
from offers.models import Click

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's prepared statement"
)
ALL_FIELDS = {f"sub{i}": f"s{i}" for i in range(1, 6)} | {
    "google_aid": "g",
    "ios_ifa": "a",
    "ios_ifv": "v",
    "os_id": "o",
    "windows_aid": "w",
    "user_id": "u",
}


def click_with_every_field(client, offer, publisher):
    client.get(
        f"/click/{offer.pk}/{publisher.pk}/",
        ALL_FIELDS,
        HTTP_USER_AGENT="Mozilla/5.0 ünï",
        HTTP_X_COUNTRY_CODE="fr",
        REMOTE_ADDR="2001:db8::1",
    )
    click = Click.objects.get()
    for name, value in ALL_FIELDS.items():
        assert getattr(click, name) == value
    assert (click.user_agent, click.country, click.ip) == ("Mozilla/5.0 ünï", "FR", "2001:db8::1")
    assert len(click.transaction_id) == 24 and click.created is not None


def test_click_insert_stores_every_field_inside_a_transaction(client, offer, publisher):
    click_with_every_field(client, offer, publisher)


@pytest.mark.django_db(transaction=True)
def test_click_insert_stores_every_field_on_its_own(client, offer, publisher):
    click_with_every_field(client, offer, publisher)


@pytest.mark.django_db(transaction=True)
def test_the_stored_time_is_the_clicks_to_the_microsecond(offer, publisher):
    moment = datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=UTC)
    Click.objects.insert(Click(offer=offer, publisher=publisher, created=moment, ip=None))
    assert Click.objects.get().created == moment


@pytest.mark.django_db(transaction=True)
@postgres_only
def test_the_insert_is_prepared_once_per_connection_and_commits_on_its_own(
    client, offer, publisher
):
    for _ in range(3):
        client.get(f"/click/{offer.pk}/{publisher.pk}/")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        names = [name for (name,) in cursor.fetchall()]
        # set_config(…, true) held for the INSERT's own transaction only.
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone() == ("on",)
    assert names.count("integr8_offers_click_insert") == 1
    assert Click.objects.count() == 3


@pytest.mark.django_db(transaction=True)
@postgres_only
def test_the_synchronous_setting_uses_a_statement_of_its_own(settings, client, offer, publisher):
    client.get(f"/click/{offer.pk}/{publisher.pk}/")
    settings.CLICK_SYNCHRONOUS_COMMIT = True
    client.get(f"/click/{offer.pk}/{publisher.pk}/")
    name, sql = click_insert.postgres_statement(connection, Click)
    assert name == b"integr8_offers_click_insert_synchronous" and b"set_config" not in sql
    assert Click.objects.count() == 2


@pytest.mark.django_db(transaction=True)
@postgres_only
def test_without_prepared_statements_nothing_is_left_on_the_connection(
    settings, client, offer, publisher
):
    settings.DB_PREPARED_STATEMENTS = False
    connection.close()  # a connection that has not prepared the statement yet
    client.get(f"/click/{offer.pk}/{publisher.pk}/")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        assert cursor.fetchone() == (0,)
    assert Click.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@postgres_only
def test_a_statement_dropped_behind_its_back_is_prepared_again(client, offer, publisher):
    client.get(f"/click/{offer.pk}/{publisher.pk}/")
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # what a pooler's DISCARD ALL does

    response = client.get(f"/click/{offer.pk}/{publisher.pk}/")

    assert response.status_code == 302
    assert Click.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_duplicate_transaction_id_is_djangos_integrity_error(offer, publisher):
    Click.objects.insert(Click(offer=offer, publisher=publisher, transaction_id="same"))
    with pytest.raises(IntegrityError):
        Click.objects.insert(Click(offer=offer, publisher=publisher, transaction_id="same"))
    assert Click.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@postgres_only
def test_a_nul_is_refused_before_libpq_could_cut_the_value_short(offer, publisher):
    with pytest.raises(ValueError, match="NUL"):
        Click.objects.insert(Click(offer=offer, publisher=publisher, sub1="a\x00b"))
    assert Click.objects.count() == 0


@pytest.mark.django_db(transaction=True)
@postgres_only
def test_click_survives_a_connection_that_died_while_idle(client, offer, publisher):
    client.get(f"/click/{offer.pk}/{publisher.pk}/")
    connection.ensure_connection()
    connection.connection.close()  # what a PostgreSQL restart does to an idle connection

    response = client.get(f"/click/{offer.pk}/{publisher.pk}/")

    assert response.status_code == 302
    assert Click.objects.count() == 2


def test_every_click_field_has_a_text_form_and_a_field_without_one_is_refused():
    click_insert.require_text_parameters(click_insert.insert_fields(Click))
    extra = models.JSONField(name="attributes")
    extra.model = Click
    with pytest.raises(ImproperlyConfigured, match=r"Click\.attributes \(JSONField\)"):
        click_insert.require_text_parameters([extra])
