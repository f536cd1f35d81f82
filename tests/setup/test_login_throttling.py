"""Login throttling (SPEC §14, django-axes): past the limit of wrong passwords, the right
one is refused too until the cool-off is over; a success clears the count."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.utils import timezone

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


@pytest.fixture
def axes_on(settings, django_user_model):
    settings.AXES_ENABLED = True
    django_user_model.objects.create_user("ops", password="right-pass", is_staff=True)
    return settings


def sign_in(client, password: str, ip: str = "198.51.100.7"):
    return client.post(LOGIN, {"username": "ops", "password": password}, REMOTE_ADDR=ip)


def test_the_21st_try_is_refused_even_with_the_right_password(client, axes_on):
    for _ in range(19):
        assert sign_in(client, "wrong").status_code == 200  # the form again, with its error
    assert sign_in(client, "wrong").status_code == 429  # the 20th: now locked

    locked = sign_in(client, "right-pass")  # the 21st

    assert locked.status_code == 429
    assert "Too many wrong passwords" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # From another address the username is locked as well.
    assert sign_in(client, "right-pass", ip="203.0.113.50").status_code == 429


def test_after_the_cool_off_the_right_password_works_and_clears_the_count(client, axes_on):
    for _ in range(20):
        sign_in(client, "wrong")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))

    signed_in = sign_in(client, "right-pass")

    assert signed_in.status_code == 302
    assert client.session["_auth_user_id"]
    assert not AccessAttempt.objects.filter(username="ops", failures_since_start__gt=0).exists()


def test_fewer_wrong_passwords_do_not_lock(client, axes_on):
    for _ in range(19):
        sign_in(client, "wrong")

    assert sign_in(client, "right-pass").status_code == 302
