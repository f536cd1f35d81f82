"""The OpenAPI schema and the docs pages, served from the project (no CDN)."""

import re

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client):
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_schema_is_openapi_3_with_every_endpoint(schema):
    assert schema["openapi"].startswith("3.")
    assert {
        "/api/v1/conversions/",
        "/api/v1/conversions/{id}/",
        "/api/v1/conversions/{id}/refire/",
        "/api/v1/conversions/refire/",
        "/api/v1/conversions/{id}/reject/",
        "/api/v1/conversions/{id}/approve/",
        "/api/v1/postback-logs/",
        "/api/v1/advertisers/",
        "/api/v1/offers/{id}/",
        "/api/v1/offer-events/",
        "/api/v1/publishers/",
        "/api/v1/postback-configs/{id}/test/",
    } <= set(schema["paths"])


def test_schema_documents_the_api_key(schema):
    assert schema["components"]["securitySchemes"]["ApiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["ApiKey"]["description"],
    }
    operation = schema["paths"]["/api/v1/conversions/"]["get"]
    assert {"ApiKey": []} in operation["security"]


def test_schema_documents_log_filters_and_idempotency(schema):
    logs = schema["paths"]["/api/v1/postback-logs/"]["get"]
    names = {parameter["name"] for parameter in logs["parameters"]}
    assert {
        "status",
        "event_id__not",
        "url__contains",
        "created_after",
        "format",
        "cursor",
    } <= names
    refire = schema["paths"]["/api/v1/conversions/{id}/refire/"]["post"]
    assert "Idempotency-Key" in {parameter["name"] for parameter in refire["parameters"]}
    assert "202" in refire["responses"]


@pytest.mark.parametrize("path", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_docs_pages_use_local_assets(client, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn.jsdelivr.net" not in html and "unpkg.com" not in html
    # Shipped as static files of the project (collectstatic, then WhiteNoise serves them).
    assets = re.findall(r"/static/(drf_spectacular_sidecar/[^\"']+\.(?:js|css))", html)
    assert assets
    for asset in assets:
        assert finders.find(asset), asset


def test_schema_validates_against_the_openapi_spec(tmp_path):
    from django.core.management import call_command

    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--file", str(target))
    assert target.read_text().startswith("openapi: 3.")


def test_root_lists_where_things_are(client):
    response = client.get("/api/v1/")
    assert response.status_code == 200
    links = response.json()
    assert links["conversions"] == "http://testserver/api/v1/conversions/"
    assert links["postback-logs"] == "http://testserver/api/v1/postback-logs/"
    assert links["offer-events"] == "http://testserver/api/v1/offer-events/"
    assert links["docs"] == "http://testserver/api/v1/docs/"
