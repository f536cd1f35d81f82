"""One bad row is one failure, not an outage: the rest of its batch goes out."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from offers.models import Conversion
from postbacks.dispatch import run_dispatcher
from postbacks.models import Delivery, Dispatcher, PostbackLog
from tests.conftest import convert

pytestmark = pytest.mark.django_db(transaction=True)


def make_unloadable(conversion: Conversion) -> None:
    """Store a value the database holds but Python cannot read back, as a row written
    before amounts were validated (SQLite), or by hand (PostgreSQL), would be."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            # 13 digits in a 12-digit decimal column: the converter raises InvalidOperation.
            sql = "UPDATE offers_conversion SET revenue = '100000000.00001' WHERE id = %s"
        else:
            # psycopg cannot turn 'infinity' into a Python datetime.
            sql = "UPDATE offers_conversion SET created = 'infinity' WHERE id = %s"
        cursor.execute(sql, [conversion.pk])


def test_a_delivery_that_cannot_be_loaded_fails_alone(
    client, click, advertiser_key, make_config, receiver
):
    make_config(receiver.url("/pb?tid={transaction_id}&o={conversion_id}"))
    quiet = Dispatcher.objects.create(heartbeat=timezone.now() + timedelta(hours=1))
    for order in range(6):
        response = convert(
            client, advertiser_key, transaction_id=click.transaction_id, order_id=order
        )
        assert response.status_code == 200
    quiet.delete()
    bad = Conversion.objects.order_by("id")[2]
    make_unloadable(bad)

    run_dispatcher()  # the real dispatcher, as the worker runs it

    arrived = receiver.wait_for(5)
    assert len(arrived) == 5
    assert f"o={bad.pk}" not in " ".join(request.path for request in arrived)
    broken = Delivery.objects.get(conversion_id=bad.pk)
    assert (broken.state, broken.attempts) == ("failed", 1)
    assert broken.last_error.startswith("Could not load the conversion")
    log = PostbackLog.objects.get(delivery=broken)
    assert (log.status, log.response_code, log.transaction_id) == (
        "failed",
        0,
        click.transaction_id,
    )
    assert log.error == broken.last_error
    assert Delivery.objects.exclude(pk=broken.pk).filter(state="succeeded").count() == 5
    assert not Delivery.objects.filter(state="pending").exists()  # nothing left to stall on
