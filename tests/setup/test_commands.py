"""API keys: printed once by the management command, stored hashed."""

import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from integr8.checks import ops_email, postback_sender
from offers.models import Advertiser, ApiKey, Offer
from postbacks.models import PostbackConfig


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


def test_ensure_admin_reset_prints_a_new_working_password(django_user_model):
    call_command("ensure_admin", stdout=io.StringIO())
    out = io.StringIO()
    call_command("ensure_admin", "--reset", stdout=out)
    password = out.getvalue().split("New password for admin: ")[1].split()[0]
    assert authenticate(username="admin", password=password).is_superuser
    assert django_user_model.objects.count() == 1


def test_ensure_admin_reset_creates_admin_when_other_users_exist(django_user_model):
    django_user_model.objects.create_user("ops", "", "x")
    out = io.StringIO()
    call_command("ensure_admin", "--reset", stdout=out)
    password = out.getvalue().split("admin / ")[1].split()[0]
    assert authenticate(username="admin", password=password).is_staff


def test_seed_demo_creates_a_working_set_up(db):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    advertiser = Advertiser.objects.get()
    assert advertiser.default_offer == Offer.objects.get()
    assert PostbackConfig.objects.get().publisher.name == "Demo Publisher"
    raw_key = out.getvalue().split("shown once): ")[1].split()[0]
    assert ApiKey.objects.for_raw_key(raw_key).advertiser == advertiser


def test_seed_demo_prints_urls_for_host_and_port(db, monkeypatch):
    monkeypatch.setenv("HOST", "localhost")
    monkeypatch.setenv("PORT", "8123")
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "curl -si 'http://localhost:8123/click/" in out.getvalue()
    assert ":8000" not in out.getvalue()


def test_seed_demo_base_url_wins_over_port(db, monkeypatch):
    monkeypatch.setenv("PORT", "8123")
    out = io.StringIO()
    call_command("seed_demo", "--base-url", "https://track.example/", stdout=out)
    assert "The attempt in the log: https://track.example/logs/" in out.getvalue()


def test_seed_demo_defaults_to_make_runs_address(db, monkeypatch):
    monkeypatch.delenv("HOST", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "http://127.0.0.1:8000/logs/" in out.getvalue()


@override_settings(OPS_EMAIL="", ADMINS=[])
def test_unset_ops_email_is_a_startup_warning_naming_the_smtp_settings():
    [warning] = ops_email()
    assert warning.id == "integr8.W001" and "nobody is told" in warning.msg
    assert "EMAIL_HOST" in warning.hint


@override_settings(OPS_EMAIL="ops@example.com")
def test_ops_email_set_is_no_warning():
    assert ops_email() == []


def test_ops_email_warning_shows_in_manage_py_check():
    out, err = io.StringIO(), io.StringIO()
    with override_settings(OPS_EMAIL="", ADMINS=[]):
        call_command("check", stdout=out, stderr=err)
    assert "integr8.W001" in out.getvalue() + err.getvalue()


@pytest.mark.parametrize("sender", ["asyncio", "threads"])
def test_both_sending_paths_pass_the_checks(sender):
    with override_settings(POSTBACK_SENDER=sender):
        assert postback_sender() == []


def test_a_misspelt_sender_stops_manage_py_check_in_words():
    with override_settings(POSTBACK_SENDER="thread"), pytest.raises(SystemCheckError) as error:
        call_command("check")
    assert "integr8.E001" in str(error.value)
    assert "POSTBACK_SENDER='thread' is not a sending path" in str(error.value)
