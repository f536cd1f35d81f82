"""Who gets in: advertiser keys, staff keys, staff sessions; and the one error shape."""

import pytest

from offers.models import ApiKey
from tests.api.conftest import errors

pytestmark = pytest.mark.django_db


def test_no_key_is_401(api):
    response = api.get("conversions/")
    assert response.status_code == 401
    assert "authorization" in errors(response)
    assert response["WWW-Authenticate"] == "Bearer"


def test_wrong_key_is_401(api):
    response = api.get("conversions/", key="i8_not-a-key")
    assert response.status_code == 401
    assert errors(response) == {"authorization": ["The API key is not valid."]}


def test_revoked_key_is_401(api, advertiser):
    api_key, raw_key = ApiKey.issue(advertiser=advertiser)
    api_key.revoked = True
    api_key.save()
    assert api.get("conversions/", key=raw_key).status_code == 401


def test_advertiser_key_lists_conversions(api, advertiser_key):
    assert api.get("conversions/", key=advertiser_key).status_code == 200


def test_staff_key_lists_conversions(api, staff_key):
    assert api.get("conversions/", key=staff_key).status_code == 200


def test_staff_session_lists_conversions(ops_client):
    assert ops_client.get("/api/v1/conversions/").status_code == 200


def test_non_staff_session_is_403(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("someone", password="pw"))
    response = client.get("/api/v1/conversions/")
    assert response.status_code == 403
    assert "permission" in errors(response)


@pytest.mark.parametrize(
    "path", ["advertisers/", "offers/", "offer-events/", "publishers/", "postback-configs/"]
)
def test_advertiser_key_cannot_manage(api, advertiser_key, path):
    response = api.get(path, key=advertiser_key)
    assert response.status_code == 403
    assert errors(response) == {
        "permission": ["Only staff API keys and staff logins manage this resource."]
    }


def test_unknown_path_is_json_404(api, staff_key):
    response = api.get("nothing-here/", key=staff_key)
    assert response.status_code == 404
    assert errors(response) == {"detail": ["No API endpoint at this path."]}


def test_missing_trailing_slash_is_explained(api, staff_key):
    response = api.get("conversions", key=staff_key)
    assert response.status_code == 404
    assert "/api/v1/conversions/" in errors(response)["detail"][0]


def test_wrong_method_is_405(api, staff_key):
    response = api.call("DELETE", "conversions/", key=staff_key)
    assert response.status_code == 405
    assert errors(response) == {"method": ['Method "DELETE" not allowed.']}


def test_malformed_json_is_400(api, staff_key):
    response = api.post("publishers/", key=staff_key, data='{"name": ')
    assert response.status_code == 400
    assert list(errors(response)) == ["body"]


def test_unsupported_content_type_is_415(client, staff_key):
    response = client.post(
        "/api/v1/publishers/",
        "<name>x</name>",
        content_type="application/xml",
        HTTP_AUTHORIZATION=f"Bearer {staff_key}",
    )
    assert response.status_code == 415
    assert list(errors(response)) == ["content_type"]


def test_unknown_format_is_400(api, staff_key):
    response = api.get("conversions/", key=staff_key, params={"format": "xml"})
    assert response.status_code == 400
    assert list(errors(response)) == ["format"]


def test_non_numeric_id_is_json_404(api, staff_key):
    response = api.get("conversions/abc/", key=staff_key)
    assert response.status_code == 404
    errors(response)


def test_huge_id_is_404(api, staff_key):
    response = api.get(f"conversions/{10**30}/", key=staff_key)
    assert response.status_code == 404
    errors(response)


def test_unknown_path_is_json_404_for_every_method(client, ops_user):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(ops_user)
    response = csrf_client.put("/api/v1/publishers/-1/", "{}", content_type="application/json")
    assert response.status_code == 404
    errors(response)


def test_too_many_form_fields_is_400(client, staff_key):
    body = "&".join(f"f{i}=1" for i in range(1100))
    response = client.post(
        "/api/v1/publishers/",
        body,
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Bearer {staff_key}",
    )
    assert response.status_code == 400
    assert list(errors(response)) == ["body"]


def test_too_large_body_is_413(client, staff_key, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = client.post(
        "/api/v1/publishers/",
        '{"name": "' + "x" * 200 + '"}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {staff_key}",
    )
    assert response.status_code == 413
    assert list(errors(response)) == ["body"]


def test_path_with_a_newline_is_json_404(api, staff_key):
    response = api.get("/api/v1/publishers/%0A%C3%96/", key=staff_key)
    assert response.status_code == 404
    errors(response)
