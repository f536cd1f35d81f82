"""Ops pages need a staff login: anonymous users go to the login page, others get 403."""

import re

import pytest
from django.test import Client

PAGES = ["/logs/", "/logs/export.csv", "/logs/{id}/"]


@pytest.fixture
def member_client(django_user_model):
    user = django_user_model.objects.create_user("member", password="pw", is_staff=False)
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_users_are_sent_to_login(client, make_log, page):
    url = page.format(id=make_log().id)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_anonymous_refire_is_sent_to_login(client, make_log):
    response = client.post(f"/logs/{make_log().id}/refire/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("page", PAGES)
def test_non_staff_users_are_refused(member_client, make_log, page):
    url = page.format(id=make_log().id)
    assert member_client.get(url).status_code == 403


def test_non_staff_cannot_refire(member_client, make_log):
    assert member_client.post(f"/logs/{make_log().id}/refire/").status_code == 403


@pytest.mark.parametrize("page", PAGES)
def test_staff_users_get_the_pages(ops_client, make_log, page):
    url = page.format(id=make_log().id)
    assert ops_client.get(url).status_code == 200


def test_login_page_signs_staff_in_and_lands_on_logs(client, ops_user):
    page = client.get("/accounts/login/?next=/logs/")
    assert page.status_code == 200
    assert b'name="username"' in page.content and b'name="password"' in page.content

    response = client.post(
        "/accounts/login/", {"username": "ops", "password": "pw", "next": "/logs/"}
    )
    assert response.status_code == 302 and response["Location"] == "/logs/"
    assert client.get("/logs/").status_code == 200


def test_login_page_says_when_the_password_is_wrong(client, ops_user):
    response = client.post("/accounts/login/", {"username": "ops", "password": "nope"})
    assert response.status_code == 200
    assert "didn't match" in response.content.decode()


def test_layout_has_navigation_and_a_post_logout(ops_client):
    html = ops_client.get("/logs/").content.decode()
    for link in ('href="/logs/"', 'href="/admin/"', 'href="/api/v1/docs/"'):
        assert link in html
    assert 'action="/accounts/logout/"' in html and 'method="post"' in html


def test_log_out_is_a_post(ops_client):
    response = ops_client.post("/accounts/logout/")
    assert response.status_code == 302
    assert ops_client.get("/logs/").status_code == 302


def test_assets_are_served_from_the_project(ops_client):
    html = ops_client.get("/logs/").content.decode()
    assert "/static/css/integr8.css" in html and "/static/js/logs.js" in html
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:css|js|svg))"', html)
    assert assets and all(asset.startswith("/static/") for asset in assets)
