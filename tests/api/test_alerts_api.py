"""/api/v1/alert-rules/ (staff CRUD) and /api/v1/alerts/ (read-only), SPEC §11."""

import pytest

from alerts.models import Alert, AlertRule
from alerts.services import open_alert
from offers.models import Publisher
from postbacks.models import PostbackConfig
from tests.api.conftest import errors

pytestmark = pytest.mark.django_db


@pytest.fixture
def config(publisher):
    return PostbackConfig.objects.create(
        name="Traffic Co installs",
        publisher=publisher,
        url="https://pb.example/?t={transaction_id}",
    )


def rule_body(**fields):
    return {"name": "Installs down", "threshold": 90, "window_minutes": 30, **fields}


def test_staff_create_read_update_and_delete_a_rule(api, staff_key, config):
    created = api.post("alert-rules/", staff_key, rule_body(config=config.pk, emails=["a@b.io"]))

    assert created.status_code == 201, created.json()
    body = created.json()
    assert body | {"id": 0, "webhook_secret": ""} == {
        "id": 0,
        "name": "Installs down",
        "enabled": True,
        "publisher": None,
        "config": config.pk,
        "condition": "success_rate_below",
        "threshold": 90,
        "window_minutes": 30,
        "min_attempts": 20,
        "emails": ["a@b.io"],
        "webhook_url": "",
        "webhook_secret": "",
    }
    assert body["webhook_secret"].startswith("whsec_")
    url = f"alert-rules/{body['id']}/"
    assert api.patch(url, staff_key, {"enabled": False}).json()["enabled"] is False
    assert api.get(url, staff_key).json()["enabled"] is False
    assert api.delete(url, staff_key).status_code == 204
    assert not AlertRule.objects.filter(pk=body["id"]).exists()


@pytest.mark.parametrize(
    ("fields", "name"),
    [
        ({"threshold": 150}, "threshold"),
        ({"threshold": 0}, "threshold"),
        ({"window_minutes": 1}, "window_minutes"),
        ({"condition": "sometimes"}, "condition"),
        ({"emails": ["not an address"]}, "emails"),
        ({"emails": "ops@example.com"}, "emails"),
        ({"webhook_url": "ftp://hooks.example/x"}, "webhook_url"),
        ({"webhook_url": "http://10.0.0.1/hook"}, "webhook_url"),
        ({"webhook_url": "http://169.254.169.254/latest"}, "webhook_url"),
        ({"webhook_secret": "plain"}, "webhook_secret"),
        ({"publisher": 999999}, "publisher"),
        ({"name": "   "}, "name"),
    ],
)
def test_bad_rules_answer_400_naming_the_field(api, staff_key, fields, name):
    response = api.post("alert-rules/", staff_key, rule_body(**fields))

    assert response.status_code == 400
    assert name in {field.split(".")[0] for field in errors(response)}  # emails.0: the first


def test_a_blocked_loopback_webhook_is_refused_like_a_postback_url(api, staff_key, settings):
    settings.POSTBACK_ALLOW_NETWORKS = ["127.0.0.1/32"]

    refused = api.post("alert-rules/", staff_key, rule_body(webhook_url="http://127.0.0.2:9/h"))
    allowed = api.post("alert-rules/", staff_key, rule_body(webhook_url="http://127.0.0.1:9/h"))

    assert refused.status_code == 400 and "webhook_url" in errors(refused)
    assert allowed.status_code == 201


def test_a_config_of_another_publisher_is_refused(api, staff_key, config):
    other = Publisher.objects.create(name="Other Net")

    response = api.post("alert-rules/", staff_key, rule_body(publisher=other.pk, config=config.pk))

    assert response.status_code == 400 and "config" in errors(response)


def test_oldest_due_thresholds_are_minutes(api, staff_key):
    body = rule_body(condition="oldest_due_older_than", threshold=240)

    assert api.post("alert-rules/", staff_key, body).status_code == 201


def test_advertisers_get_403(api, advertiser_key):
    assert api.get("alert-rules/", advertiser_key).status_code == 403
    assert api.get("alerts/", advertiser_key).status_code == 403
    assert api.post("alert-rules/", advertiser_key, rule_body()).status_code == 403


def test_alerts_are_listed_read_only_and_filter_by_state(api, staff_key, config):
    rule = AlertRule.objects.create(name="Down", config=config)
    first = open_alert("a", "condition", "Installs down", rule=rule, config=config)
    open_alert("b", "config_disabled", "Disabled", config=config)
    assert first is not None
    Alert.objects.filter(pk=first.pk).update(state="resolved")

    listed = api.get("alerts/", staff_key).json()["results"]
    open_only = api.get("alerts/", staff_key, {"state": "open"}).json()["results"]

    assert [alert["summary"] for alert in listed] == ["Disabled", "Installs down"]
    assert set(listed[1]) >= {"id", "rule", "state", "opened", "resolved", "summary"}
    assert (listed[1]["rule"], listed[1]["state"]) == (rule.pk, "resolved")
    assert [alert["summary"] for alert in open_only] == ["Disabled"]
    assert api.post("alerts/", staff_key, {"summary": "x"}).status_code == 405
    assert api.delete(f"alerts/{first.pk}/", staff_key).status_code == 405


@pytest.mark.parametrize(
    "params", [{"state": "closed"}, {"rule": "x"}, {"config": "99999999999999999999"}, {"z": "1"}]
)
def test_bad_alert_filters_answer_400(api, staff_key, params):
    response = api.get("alerts/", staff_key, params)

    assert response.status_code == 400
    assert set(errors(response)) == set(params)


def test_a_fresh_install_has_the_default_rule():
    """The migration's rule (this test runs before any flush of the migrated data)."""
    rule = AlertRule.objects.get()
    assert (rule.condition, rule.threshold, rule.window_minutes, rule.min_attempts) == (
        "success_rate_below",
        80,
        15,
        20,
    )
    assert (rule.config, rule.publisher, rule.enabled) == (None, None, True)
