"""Deliveries and conversions are read-only in the admin: their state changes only through
the service actions (re-fire, reject, approve), the same functions the API calls."""

import pytest

from postbacks.models import Delivery, PostbackLog
from tests.conftest import convert
from tests.delivery.receiver import Answer

pytestmark = pytest.mark.django_db(transaction=True)


def changelist_action(admin_client, model: str, action: str, ids, **extra):
    return admin_client.post(
        f"/admin/{model}/", {"action": action, "_selected_action": list(ids), **extra}
    )


def test_a_delivery_cannot_be_edited_in_the_admin(admin_client, click, advertiser_key, make_config):
    make_config("http://127.0.0.1:9/pb", max_attempts=1)
    convert(admin_client, advertiser_key, transaction_id=click.transaction_id)
    delivery = Delivery.objects.get()

    page = admin_client.get(f"/admin/postbacks/delivery/{delivery.pk}/change/")
    response = admin_client.post(
        f"/admin/postbacks/delivery/{delivery.pk}/change/", {"state": "succeeded"}
    )

    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert response.status_code == 403
    assert Delivery.objects.get().state == "failed"
    assert admin_client.get("/admin/postbacks/delivery/add/").status_code == 403
    assert admin_client.get(f"/admin/postbacks/delivery/{delivery.pk}/delete/").status_code == 403


def test_the_delivery_refire_action_calls_the_service(
    admin_client, click, advertiser_key, make_config, receiver
):
    make_config(receiver.url("/pb"), max_attempts=1)
    receiver.answer(Answer(404))
    convert(admin_client, advertiser_key, transaction_id=click.transaction_id)
    delivery = Delivery.objects.get()
    assert delivery.state == "failed"

    changelist_action(admin_client, "postbacks/delivery", "refire", [delivery.pk])

    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("succeeded", 2)
    assert [log.trigger for log in PostbackLog.objects.order_by("id")] == ["automatic", "refire"]


def test_conversion_actions_reject_and_approve(
    admin_client, click, advertiser_key, make_config, receiver
):
    make_config(receiver.url("/rejected?reason={rejection_reason}"), postback_type="rejection")
    approved = convert(admin_client, advertiser_key, transaction_id=click.transaction_id).json()
    pending = convert(
        admin_client,
        advertiser_key,
        transaction_id=click.transaction_id,
        order_id="2",
        status="pending",
    ).json()

    confirm = changelist_action(
        admin_client, "offers/conversion", "reject", [approved["conversion_id"]]
    )
    assert confirm.status_code == 200 and b"reason" in confirm.content
    changelist_action(
        admin_client,
        "offers/conversion",
        "reject",
        [approved["conversion_id"]],
        apply="1",
        reason="fraud check",
    )
    changelist_action(admin_client, "offers/conversion", "approve", [pending["conversion_id"]])

    statuses = dict(click.conversions.values_list("pk", "status"))
    assert statuses == {approved["conversion_id"]: "rejected", pending["conversion_id"]: "approved"}
    assert receiver.wait_for(1)[0].path == "/rejected?reason=fraud%20check"
    page = admin_client.get(f"/admin/offers/conversion/{approved['conversion_id']}/change/")
    assert b'name="_save"' not in page.content


def test_the_conversion_refire_action_queues_what_failed(
    admin_client, click, advertiser_key, make_config, receiver
):
    make_config(receiver.url("/pb"), max_attempts=1)
    receiver.answer(Answer(404))
    conversion_id = convert(
        admin_client, advertiser_key, transaction_id=click.transaction_id
    ).json()["conversion_id"]

    changelist_action(admin_client, "offers/conversion", "refire_failed", [conversion_id])

    assert Delivery.objects.get().state == "succeeded"
    assert len(receiver.requests) == 2
