"""/alerts/: open and recent alerts with names beside IDs, the rules, staff only."""

import pytest
from bs4 import BeautifulSoup
from django.test import Client

from alerts.models import AlertRule
from alerts.services import open_alert, resolve_alert
from postbacks.models import PostbackConfig

pytestmark = pytest.mark.django_db


@pytest.fixture
def config(publisher):
    return PostbackConfig.objects.create(
        name="Traffic Co installs",
        publisher=publisher,
        url="https://pb.example/?t={transaction_id}",
    )


def test_open_and_resolved_alerts_and_the_rules(ops_client, config, publisher):
    rule = AlertRule.objects.create(
        name="Installs down",
        config=config,
        webhook_url="https://hooks.example/services/T0/B0/secret-token",
    )
    open_alert("one", "condition", "Installs: 12 % first-attempt success", rule=rule, config=config)
    done = open_alert("two", "config_disabled", "Was disabled", config=config)
    assert done is not None
    resolve_alert(done, "The config was re-enabled.")

    response = ops_client.get("/alerts/")

    assert response.status_code == 200
    page = BeautifulSoup(response.content, "html.parser")
    [opened] = page.select("#open-alerts .alert-item")
    assert "Installs: 12 % first-attempt success" in opened.text
    assert f"{config.name} #{config.pk}" in opened.text
    assert f"{publisher.name} (#{publisher.pk})" in opened.text
    logs = opened.select_one("a.btn")["href"]
    assert logs.startswith("/logs/?postback_name=Traffic+Co+installs&publisher_id=")
    assert "status=failed" in logs and "created_after=" in logs
    [resolved] = page.select("#recent-alerts .alert-item")
    assert "The config was re-enabled." in resolved.text
    rules = page.select_one("#alert-rules").text
    assert "Installs down" in rules and "first-attempt success < 80 %" in rules
    assert "secret-token" not in response.content.decode()


def test_nothing_alerting(ops_client):
    page = BeautifulSoup(ops_client.get("/alerts/").content, "html.parser")

    assert "Nothing is alerting." in page.select_one("#no-open-alerts").text


def test_staff_only(client, django_user_model):
    assert client.get("/alerts/").status_code == 302
    django_user_model.objects.create_user("adv", password="pw")
    member = Client()
    member.login(username="adv", password="pw")
    assert member.get("/alerts/").status_code == 403
