"""Portal users: `create_portal_user`, the login that lands them on /portal/, one owner
each, and staff pages that do not exist for them."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import IntegrityError
from django.test import Client

from accounts.models import Membership


def _create(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("create_portal_user", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_create_portal_user_prints_a_password_that_signs_in(ours):
    password, note = _create("--publisher", str(ours.publisher.pk), "traffic-ops")
    assert len(password) >= 16 and "shown once" in note
    user = get_user_model().objects.get(username="traffic-ops")
    assert not user.is_staff
    assert user.membership.publisher == ours.publisher
    client = Client()
    response = client.post("/accounts/login/", {"username": "traffic-ops", "password": password})
    assert response["Location"] == "/portal/"
    assert client.get("/portal/", follow=True).request["PATH_INFO"] == "/portal/logs/"


def test_an_advertiser_user_lands_on_its_conversions(ours):
    password, _ = _create("--advertiser", str(ours.advertiser.pk), "acme")
    client = Client()
    client.post("/accounts/login/", {"username": "acme", "password": password})
    assert client.get("/").url == "/portal/"  # the front page sends it to its portal
    assert client.get("/portal/")["Location"] == "/portal/conversions/"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--publisher", "999", "x"], "No publisher with ID 999"),
        (["--advertiser", "999", "x"], "No advertiser with ID 999"),
    ],
)
def test_unknown_owners_are_refused(db, args, message):
    with pytest.raises(CommandError, match=message):
        _create(*args)


def test_an_existing_username_is_refused(ours, django_user_model):
    django_user_model.objects.create_user("taken")
    with pytest.raises(CommandError, match="exists already"):
        _create("--publisher", str(ours.publisher.pk), "taken")
    assert not Membership.objects.exists()


def test_publisher_and_advertiser_are_exclusive(db):
    with pytest.raises(CommandError):
        call_command("create_portal_user", "--publisher", "1", "--advertiser", "1", "x")


def test_a_membership_has_exactly_one_owner(ours, django_user_model):
    user = django_user_model.objects.create_user("both")
    with pytest.raises(IntegrityError):
        Membership.objects.create(user=user, publisher=ours.publisher, advertiser=ours.advertiser)


def test_staff_pages_answer_404_but_other_non_staff_users_keep_403(
    publisher_client, django_user_model
):
    assert publisher_client.get("/logs/").status_code == 404
    other = Client()
    other.force_login(django_user_model.objects.create_user("nobody"))
    assert other.get("/logs/").status_code == 403
    assert other.get("/portal/").status_code == 404  # no portal either


def test_staff_see_every_row_on_the_staff_pages(ops_client, ours, theirs):
    page = ops_client.get("/logs/").content.decode()
    assert "tid-ours" in page and "tid-theirs" in page


def test_the_nav_shows_portal_links_only(publisher_client, advertiser_client, ours):
    page = publisher_client.get("/portal/configs/").content.decode()
    assert "Postback configs" in page and "Overview" not in page and "Admin" not in page
    assert "ours publisher" in page
    page = advertiser_client.get("/portal/conversions/").content.decode()
    assert "Conversions" in page and "Postback configs" not in page
