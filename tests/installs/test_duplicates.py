"""A repeated install id stores nothing new and answers with the original conversion."""

from offers.models import Conversion, Offer
from postbacks.models import Delivery
from tests.installs.conftest import errors_of, minimal, send


def test_repeated_id_is_a_duplicate_of_the_original(install, make_config):
    make_config("http://127.0.0.1:9/pb")
    first = install(id="i-1", cost="1").json()
    second = install(id="i-1", cost="9", s_site="changed").json()
    assert first["duplicate"] is False and first["postbacks_queued"] == 1
    assert second == {**first, "duplicate": True, "postbacks_queued": 0}
    conversion = Conversion.objects.get()
    assert conversion.pk == first["conversion_id"]
    assert conversion.attributes["cost"] == "1" and "s_site" not in conversion.attributes
    assert Delivery.objects.count() == 1


def test_duplicate_may_arrive_by_another_method(client, advertiser_key, default_offer):
    first = send(client, "get", advertiser_key, minimal(id="i-2")).json()
    again = send(client, "json", advertiser_key, minimal(id="i-2")).json()
    assert again["duplicate"] is True
    assert again["conversion_id"] == first["conversion_id"]
    assert again["transaction_id"] == first["transaction_id"]


def test_install_ids_are_case_sensitive(install):
    install(id="abc")
    assert install(id="ABC").json()["duplicate"] is False
    assert Conversion.objects.count() == 2


def test_same_id_for_another_advertiser_is_another_install(
    client, advertiser_key, outsider, outsider_key, default_offer
):
    outsider.default_offer = Offer.objects.create(
        advertiser=outsider, name="Other", destination_url="https://o.example/"
    )
    outsider.save()
    ours = send(client, "get", advertiser_key, minimal(id="shared")).json()
    theirs = send(client, "get", outsider_key, minimal(id="shared")).json()
    assert theirs["duplicate"] is False
    assert theirs["conversion_id"] != ours["conversion_id"]


def test_without_id_every_call_is_a_new_install(install):
    first = install().json()
    second = install().json()
    assert first["duplicate"] is False and second["duplicate"] is False
    assert first["conversion_id"] != second["conversion_id"]
    assert Conversion.objects.filter(install_id="").count() == 2


def test_a_repeat_is_validated_like_any_call(install):
    install(id="i-3")
    assert "cost" in errors_of(install(id="i-3", cost="-1"))


def test_a_repeat_whose_publisher_matched_reports_it(install, publisher):
    install(id="i-4")
    assert install(id="i-4").json()["publisher_matched"] is True
