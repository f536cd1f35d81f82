"""API keys: printed once by the management command, stored hashed."""

import io

import pytest
from django.core.management import CommandError, call_command

from offers.models import ApiKey


def test_create_api_key_for_advertiser_prints_a_working_key(advertiser):
    out = io.StringIO()
    call_command(
        "create_api_key", "--advertiser", str(advertiser.pk), stdout=out, stderr=io.StringIO()
    )
    raw_key = out.getvalue().strip()
    stored = ApiKey.objects.get()
    assert stored.advertiser == advertiser and not stored.is_staff
    assert raw_key not in (stored.key_hash, stored.prefix)
    assert ApiKey.objects.for_raw_key(raw_key) == stored


def test_create_staff_key(db):
    call_command("create_api_key", "--staff", stdout=io.StringIO(), stderr=io.StringIO())
    assert ApiKey.objects.get().is_staff


def test_unknown_advertiser_is_an_error(db):
    with pytest.raises(CommandError, match="No advertiser with ID 404"):
        call_command("create_api_key", "--advertiser", "404", stdout=io.StringIO())


def test_revoked_key_no_longer_authenticates(advertiser):
    api_key, raw_key = ApiKey.issue(advertiser=advertiser)
    api_key.revoked = True
    api_key.save()
    assert ApiKey.objects.for_raw_key(raw_key) is None


def test_ensure_admin_creates_admin_once(django_user_model):
    out = io.StringIO()
    call_command("ensure_admin", stdout=out)
    assert "admin /" in out.getvalue()
    call_command("ensure_admin", stdout=io.StringIO())
    assert django_user_model.objects.get().username == "admin"


def test_seed_demo_creates_a_working_set_up(db):
    from offers.models import Advertiser, Offer
    from postbacks.models import PostbackConfig

    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    advertiser = Advertiser.objects.get()
    assert advertiser.default_offer == Offer.objects.get()
    assert PostbackConfig.objects.get().publisher.name == "Demo Publisher"
    raw_key = out.getvalue().split("shown once): ")[1].split()[0]
    assert ApiKey.objects.for_raw_key(raw_key).advertiser == advertiser
