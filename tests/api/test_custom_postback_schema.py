"""/api/v1/custom-postback/ in the OpenAPI schema: what a tracker integrator finds there is
what the endpoint does. The endpoint is fuzzed from that description with an advertiser's
key; there are no postback configs here, so installs are stored and nothing is sent.
"""

import json
import os

import pytest
import schemathesis
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from offers.installs import AUTH_PARAMS, FIELDS, IDENTIFIER_FIELDS, UUID_FIELDS
from offers.models import Advertiser, ApiKey, Conversion, Offer, Publisher

PATH = "/api/v1/custom-postback/"
MAX_EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "25"))
RESULT_KEYS = {
    "conversion_id",
    "transaction_id",
    "duplicate",
    "publisher_matched",
    "postbacks_queued",
    "ignored_fields",
}

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client):
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def resolve(schema, ref):
    assert ref.startswith("#/components/schemas/"), ref
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]]


def parameters(schema):
    return {p["name"]: p for p in schema["paths"][PATH]["get"]["parameters"]}


def test_the_path_has_get_and_post_with_the_api_key(schema):
    path = schema["paths"][PATH]
    assert set(path) == {"get", "post"}
    for operation in path.values():
        assert operation["security"] == [{"ApiKey": []}]
        assert operation["tags"] == ["custom postback"]
        assert "docs/custom-postback.md" in operation["description"]
    assert schema["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    assert path["get"]["operationId"] != path["post"]["operationId"]


def test_get_takes_every_field_and_the_key_as_query_parameters(schema):
    params = parameters(schema)
    assert set(params) == FIELDS | AUTH_PARAMS
    assert all(p["in"] == "query" and p["description"] for p in params.values())
    assert [name for name, p in params.items() if p.get("required")] == ["publisher_name"]


def test_get_parameters_carry_their_formats(schema):
    params = {name: p["schema"] for name, p in parameters(schema).items()}
    for name in UUID_FIELDS:
        assert params[name]["format"] == "uuid"
    assert params["country_code"]["pattern"] == "^[A-Za-z]{2}$"
    assert "ISO 3166-1 alpha-2" in parameters(schema)["country_code"]["description"]
    assert params["cost"] == {
        "type": "number",
        "minimum": 0,
        "maximum": 100000000.0,
        "exclusiveMaximum": True,
    }
    assert params["campaign_id"]["type"] == "integer" and params["campaign_id"]["minimum"] == 1
    assert params["event_name"] == {"type": "string", "enum": ["install"]}
    assert params["publisher_name"]["maxLength"] == 255
    for name in ("install_timestamp", "click_timestamp"):
        forms = params[name]["anyOf"]
        assert forms[0]["format"] == "date-time"
        assert [form.get("description") for form in forms] == [
            "ISO 8601 with an offset",
            "YYYY-MM-DD HH:MM:SS, read as UTC",
            "Unix seconds",
        ]


def test_post_json_and_form_bodies_share_one_schema(schema):
    body = schema["paths"][PATH]["post"]["requestBody"]
    assert body["required"] is True
    assert set(body["content"]) == {
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    }
    refs = {content["schema"]["$ref"] for content in body["content"].values()}
    assert refs == {"#/components/schemas/CustomPostbackInstall"}
    install = resolve(schema, refs.pop())
    assert install["required"] == ["publisher_name"]
    assert set(install["properties"]) == FIELDS | AUTH_PARAMS
    assert all(prop["description"] for prop in install["properties"].values())
    assert all(name in install["description"] for name in IDENTIFIER_FIELDS)
    # JSON numbers are accepted for numeric fields and Unix-second times.
    assert {"type": "string"} in install["properties"]["cost"]["anyOf"]
    assert {"type": "number", "minimum": 0, "description": "Unix seconds"} in install["properties"][
        "install_timestamp"
    ]["anyOf"]


def test_responses_are_documented_with_the_one_error_shape(schema):
    responses = schema["paths"][PATH]["post"]["responses"]
    assert set(responses) == {"200", "400", "401", "403", "405", "413"}
    result = resolve(schema, responses["200"]["content"]["application/json"]["schema"]["$ref"])
    assert set(result["properties"]) == set(result["required"]) == RESULT_KEYS
    for status in ("400", "401", "403", "405", "413"):
        error = resolve(schema, responses[status]["content"]["application/json"]["schema"]["$ref"])
        assert error["required"] == ["errors"]
        assert error["properties"]["errors"]["additionalProperties"]["items"]["type"] == "string"
    assert "WWW-Authenticate" in responses["401"]["headers"]
    assert "Allow" in responses["405"]["headers"]


def test_the_yaml_schema_has_no_aliases(client):
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    assert f"{PATH}:" in text
    assert "&id" not in text and "*id" not in text


def test_swagger_ui_reads_the_schema_with_the_path(client, schema):
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    # Swagger UI's init script is a file of its own (no inline script: the CSP).
    script = client.get("/api/v1/docs/?script=")
    assert "/api/v1/schema/" in script.content.decode()
    assert PATH in schema["paths"]


def test_spectacular_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert PATH in target.read_text()


def test_a_documented_call_gets_the_documented_answer(client, advertiser_key, offer, advertiser):
    advertiser.default_offer = offer
    advertiser.save()
    body = {"publisher_name": "Nobody", "user_id": "u-1", "cost": 0.35, "id": "inst-1"}
    response = client.post(
        PATH,
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {advertiser_key}",
    )
    assert response.status_code == 200, response.content
    assert set(response.json()) == RESULT_KEYS


# Fuzzing from the schema, with an advertiser's key.

fuzz_schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application()).include(
    path=PATH
)
fuzz_schema.config.generation.update(max_examples=MAX_EXAMPLES)


@pytest.fixture
def installer_key(db, keep_connection):
    """An advertiser with a default offer and a publisher to match; no postback configs."""
    advertiser = Advertiser.objects.create(name="Fuzz Games")
    advertiser.default_offer = Offer.objects.create(
        advertiser=advertiser, name="Fuzz", destination_url="https://fuzz.example/"
    )
    advertiser.save()
    Publisher.objects.create(name="0")  # the generator's favourite publisher_name
    return ApiKey.issue(advertiser=advertiser)[1]


def errors_have_one_shape(ctx, response, case):
    """4xx answers are {"errors": {name: [messages]}}."""
    if response.status_code < 400 or case.method.upper() == "HEAD":
        return None
    if response.status_code == 405:
        assert response.headers.get("allow") == ["GET, POST"], response.headers
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"errors"}, body
    for name, messages in body["errors"].items():
        assert isinstance(messages, list) and messages, (name, messages)
        assert all(isinstance(message, str) for message in messages), (name, messages)
    return True


@fuzz_schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_fuzzed_installs_get_documented_answers(case, installer_key):
    response = case.call(headers={"Authorization": f"Bearer {installer_key}"})
    case.validate_response(
        response,
        checks=[not_a_server_error, errors_have_one_shape, response_schema_conformance],
    )


def test_fuzzing_stores_installs(installer_key):
    """The generator does reach the 200 path: a valid documented example is stored."""
    case = fuzz_schema[PATH]["GET"].Case(
        query={"publisher_name": "0", "google_aid": "38400000-8cf0-11bd-b23e-10b96e40000d"}
    )
    response = case.call(headers={"Authorization": f"Bearer {installer_key}"})
    assert response.status_code == 200, response.text
    assert Conversion.objects.get().publisher.name == "0"
