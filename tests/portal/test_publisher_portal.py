"""A publisher's portal: its attempts, its configs (masked, read-only or editable), Send
test, and the same through the API with a portal session."""

import csv
import io
import json

import pytest

from postbacks.models import PostbackConfig, PostbackConfigVersion, PostbackLog


def _csv_rows(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_the_attempts_page_lists_only_the_publishers_rows(publisher_client, ours, crossed):
    response = publisher_client.get("/portal/logs/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "tid-ours" in page and "tid-crossed" in page  # crossed: another's offer, sent to us
    assert "tid-theirs" not in page
    assert "Re-fire matching" not in page


def test_filters_and_the_csv_keep_to_the_publishers_rows(publisher_client, ours, theirs):
    response = publisher_client.get("/portal/logs/export.csv?status=failed")
    rows = _csv_rows(response)
    assert [row["Transaction ID"] for row in rows] == ["tid-ours"]
    # A filter naming their row finds nothing rather than their row.
    response = publisher_client.get("/portal/logs/export.csv?transaction_id=tid-theirs")
    assert _csv_rows(response) == []


def test_bad_filters_are_a_400_naming_the_parameter(publisher_client, ours):
    response = publisher_client.get("/portal/logs/?response_code=abc")
    assert response.status_code == 400
    assert "response_code" in response.content.decode()


def test_the_attempt_page_links_the_portal_config_and_offers_no_refire(publisher_client, ours):
    page = publisher_client.get(f"/portal/logs/{ours.log.pk}/").content.decode()
    assert f'href="/portal/configs/{ours.config.pk}/"' in page
    assert 'id="refire"' not in page
    assert "/admin/" not in page


def test_a_publisher_may_not_refire(publisher_client, ours):
    assert publisher_client.post(f"/portal/logs/{ours.log.pk}/refire/").status_code == 404


def test_the_config_page_masks_credentials(publisher_client, ours):
    page = publisher_client.get(f"/portal/configs/{ours.config.pk}/").content.decode()
    assert "token=****" in page
    assert "sekret-ours" not in page and "hdr-ours" not in page
    assert ours.config.secret not in page
    assert "Authorization: ****" in page
    assert 'id="config-form"' not in page  # read-only unless the publisher may edit


def test_a_read_only_config_cannot_be_changed(publisher_client, ours):
    response = publisher_client.post(
        f"/portal/configs/{ours.config.pk}/", {"url": "http://127.0.0.1:9/changed"}
    )
    assert response.status_code == 302
    ours.config.refresh_from_db()
    assert "changed" not in ours.config.url


@pytest.fixture
def editable(ours):
    ours.publisher.portal_can_edit = True
    ours.publisher.save()
    return ours.config


def _form(config: PostbackConfig, **changes) -> dict:
    data = {
        "url": "http://127.0.0.1:9/pb?tid={transaction_id}&who=ours&token=****",
        "method": config.method,
        "body": config.body,
        "content_type": config.content_type,
        "headers": json.dumps({"Authorization": "****", "X-Source": "ours"}),
        "success_rule": "null",
        "accept_window_hours": "",
        "event_names": "{}",
        "secret_parameters": '["token"]',
    }
    return {**data, **changes}


def test_an_editable_config_keeps_its_secrets_when_saved_masked(publisher_client, editable):
    changed = "http://127.0.0.1:9/v2?tid={transaction_id}&who=ours&token=****"
    response = publisher_client.post(
        f"/portal/configs/{editable.pk}/", _form(editable, url=changed)
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    editable.refresh_from_db()
    assert editable.url == "http://127.0.0.1:9/v2?tid={transaction_id}&who=ours&token=sekret-ours"
    assert editable.headers["Authorization"] == "Bearer hdr-ours"
    assert editable.version == 2
    history = PostbackConfigVersion.objects.get(config=editable)
    assert "sekret-ours" not in json.dumps(history.changes)


def test_a_bad_edit_is_a_400_naming_the_field_and_changes_nothing(publisher_client, editable):
    response = publisher_client.post(
        f"/portal/configs/{editable.pk}/", _form(editable, headers="not json")
    )
    assert response.status_code == 400
    assert "Headers" in response.content.decode() or "headers" in response.content.decode()
    editable.refresh_from_db()
    assert editable.version == 1


def test_an_edit_cannot_move_the_config_to_another_publisher(publisher_client, editable, theirs):
    publisher_client.post(
        f"/portal/configs/{editable.pk}/",
        _form(editable, publisher=theirs.publisher.pk, max_attempts="20"),
    )
    editable.refresh_from_db()
    assert (editable.publisher_id, editable.max_attempts) == (editable.publisher_id, 1)
    assert editable.publisher.name == "ours publisher"


def test_send_test_fires_at_the_publishers_url_and_shows_the_answer(
    publisher_client, ours, receiver
):
    ours.config.url = receiver.url("/pb?tid={transaction_id}&token=sekret-ours")
    ours.config.save()
    response = publisher_client.post(f"/portal/configs/{ours.config.pk}/test/")
    log = PostbackLog.objects.get(trigger="test")
    assert response["Location"] == f"/portal/configs/{ours.config.pk}/?test={log.pk}"
    response = publisher_client.get(response["Location"])  # reloading it sends nothing
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="test-result"' in page and "Success" in page
    (request,) = receiver.wait_for(1)
    assert "token=sekret-ours" in request.path  # the real value is sent
    assert "sekret-ours" not in page  # and never shown
    assert log.publisher_id == ours.publisher.pk


@pytest.mark.parametrize("shown", ["abc", "99999999999999999999", "{theirs}"])
def test_a_test_id_that_is_not_this_configs_shows_no_result(publisher_client, ours, theirs, shown):
    shown = shown.format(theirs=theirs.log.pk)
    page = publisher_client.get(f"/portal/configs/{ours.config.pk}/?test={shown}")
    assert page.status_code == 200
    assert 'id="test-result"' not in page.content.decode()


def test_configs_list_shows_only_the_publishers_configs(publisher_client, ours, theirs):
    page = publisher_client.get("/portal/configs/").content.decode()
    assert "ours config" in page and "theirs config" not in page
    assert "sekret-ours" not in page


class TestApi:
    def test_configs_read_masked(self, publisher_client, ours, theirs):
        answer = publisher_client.get("/api/v1/postback-configs/").json()
        (config,) = answer["results"]
        assert config["id"] == ours.config.pk
        assert config["url"].endswith("token=****")
        assert config["secret"] == "****"
        assert config["headers"]["Authorization"] == "****"

    def test_a_read_only_config_refuses_a_patch_with_the_reason(self, publisher_client, ours):
        response = publisher_client.patch(
            f"/api/v1/postback-configs/{ours.config.pk}/",
            json.dumps({"body": "x"}),
            content_type="application/json",
        )
        assert response.status_code == 403
        assert "read-only" in response.json()["errors"]["permission"][0]

    def test_an_editable_config_takes_a_patch_of_what_is_sent_only(
        self, publisher_client, editable
    ):
        response = publisher_client.patch(
            f"/api/v1/postback-configs/{editable.pk}/",
            json.dumps({"body": "tid={transaction_id}", "max_attempts": 20, "enabled": False}),
            content_type="application/json",
        )
        assert response.status_code == 200, response.content
        editable.refresh_from_db()
        assert (editable.body, editable.max_attempts, editable.enabled) == (
            "tid={transaction_id}",
            1,
            True,
        )
        assert editable.url.endswith("token=sekret-ours")

    def test_publishers_do_not_create_or_delete_configs(self, publisher_client, ours):
        created = publisher_client.post(
            "/api/v1/postback-configs/",
            json.dumps({"name": "x", "publisher": ours.publisher.pk, "url": "http://127.0.0.1:9/"}),
            content_type="application/json",
        )
        deleted = publisher_client.delete(f"/api/v1/postback-configs/{ours.config.pk}/")
        assert (created.status_code, deleted.status_code) == (403, 403)
        assert PostbackConfig.objects.filter(pk=ours.config.pk).exists()

    def test_logs_are_the_publishers_only(self, publisher_client, ours, theirs, crossed):
        answer = publisher_client.get("/api/v1/postback-logs/").json()
        assert {row["transaction_id"] for row in answer["results"]} == {"tid-ours", "tid-crossed"}
