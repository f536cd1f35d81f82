"""Bodies and query strings Integr8 cannot read: a JSON error with a fitting 4xx, never a 500
or an HTML page, on the API and the tracker endpoints (/conversion/, custom postback).

Deep JSON is a 400 under `body`, a body over DATA_UPLOAD_MAX_MEMORY_SIZE a 413 under `body`,
a query string over MAX_QUERY_STRING a 414 under `query_string`. integr8/middleware.py
answers most of these before any view runs; offers/params.py and api/parsers.py refuse the
same bodies without it (tested with the middleware left out), and one test goes through a
real gunicorn, whose own request-line limit must not answer first.
"""

import http.client
import io
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.test import RequestFactory
from django.urls import path
from rest_framework.exceptions import ParseError

from api.parsers import LimitedJSONParser, read_at_most
from integr8.middleware import JsonRefusalsMiddleware
from offers.params import MAX_JSON_DEPTH, BadRequest, json_body, nested_deeper_than
from tests.api.conftest import errors

ROOT = Path(__file__).resolve().parents[2]
DEEP = 1000
DEEP_BODIES = {
    "arrays": "[" * DEEP + "]" * DEEP,
    "objects": '{"a":' * DEEP + "1" + "}" * DEEP,
}
LONG_QUERY = "pad=" + "x" * 10 * 1024

# (method, path, the key that may call it). {names} are filled with IDs of the rows below.
BODY_ENDPOINTS = [
    ("POST", "/conversion/", "advertiser_key"),
    ("POST", "/api/v1/custom-postback/", "advertiser_key"),
    ("POST", "/api/v1/conversions/{conversion}/refire/", "advertiser_key"),
    ("POST", "/api/v1/conversions/refire/", "advertiser_key"),
    ("POST", "/api/v1/conversions/{conversion}/reject/", "advertiser_key"),
    ("POST", "/api/v1/advertisers/", "staff_key"),
    ("PATCH", "/api/v1/advertisers/{advertiser}/", "staff_key"),
    ("PUT", "/api/v1/advertisers/{advertiser}/", "staff_key"),
    ("POST", "/api/v1/offers/", "staff_key"),
    ("PATCH", "/api/v1/offers/{offer}/", "staff_key"),
    ("POST", "/api/v1/offer-events/", "staff_key"),
    ("PATCH", "/api/v1/offer-events/{event}/", "staff_key"),
    ("POST", "/api/v1/publishers/", "staff_key"),
    ("PATCH", "/api/v1/publishers/{publisher}/", "staff_key"),
    ("POST", "/api/v1/postback-configs/", "staff_key"),
    ("PATCH", "/api/v1/postback-configs/{config}/", "staff_key"),
]
# Actions that take no body: the middleware refuses an unreadable one all the same.
BODILESS_ACTIONS = [
    ("POST", "/api/v1/conversions/{conversion}/approve/", "advertiser_key"),
    ("POST", "/api/v1/postback-configs/{config}/test/", "staff_key"),
]
GET_ENDPOINTS = [
    ("GET", "/conversion/", "advertiser_key"),
    ("GET", "/api/v1/custom-postback/", "advertiser_key"),
    ("GET", "/api/v1/conversions/", "advertiser_key"),
    ("GET", "/api/v1/conversions/{conversion}/", "advertiser_key"),
    ("GET", "/api/v1/postback-logs/", "advertiser_key"),
    ("GET", "/api/v1/publishers/", "staff_key"),
    ("GET", "/api/v1/schema/", "staff_key"),
]
ALL_ENDPOINTS = BODY_ENDPOINTS + BODILESS_ACTIONS + GET_ENDPOINTS
WITHOUT_MIDDLEWARE = "integr8.middleware.JsonRefusalsMiddleware"


def boom(exception: Exception):
    def view(request):
        raise exception

    return view


# Views that raise Django's refusals, for process_exception (see test_refusals_raised_in_a_view).
urlpatterns = [
    path("api/too-big/", boom(RequestDataTooBig("Too big."))),
    path("api/suspicious/", boom(SuspiciousOperation("Odd."))),
    path("elsewhere/suspicious/", boom(SuspiciousOperation("Odd."))),
]


@pytest.fixture
def ids(conversion, advertiser, offer, purchase, publisher, make_config) -> dict[str, int]:
    config = make_config("http://127.0.0.1:9/")  # the discard port: never fired at anyway
    return {
        "conversion": conversion.pk,
        "advertiser": advertiser.pk,
        "offer": offer.pk,
        "event": purchase.pk,
        "publisher": publisher.pk,
        "config": config.pk,
    }


@pytest.fixture
def send(client, request, ids):
    """Send a raw body (JSON unless told) to an endpoint, with the key that may call it."""

    def call(endpoint, body: str = "", query: str = "", content_type="application/json", **extra):
        method, template, key_fixture = endpoint
        url = template.format(**ids) + (f"?{query}" if query else "")
        key = request.getfixturevalue(key_fixture)
        return client.generic(
            method,
            url,
            body,
            content_type=content_type,
            HTTP_AUTHORIZATION=f"Bearer {key}",
            **extra,
        )

    return call


@pytest.fixture
def without_middleware(settings):
    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if name != WITHOUT_MIDDLEWARE]


def json_errors(response, status: int) -> dict[str, list[str]]:
    """The {field: [messages]} of a JSON error answer with this status."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    return errors(response)


def endpoint_id(endpoint) -> str:
    return f"{endpoint[0]} {endpoint[1]}"


@pytest.mark.parametrize("shape", DEEP_BODIES)
@pytest.mark.parametrize("endpoint", BODY_ENDPOINTS + BODILESS_ACTIONS, ids=endpoint_id)
def test_deeply_nested_json_is_a_400_naming_body(send, endpoint, shape):
    response = send(endpoint, DEEP_BODIES[shape])
    assert json_errors(response, 400) == {
        "body": [f"The JSON body is nested deeper than {MAX_JSON_DEPTH} levels."]
    }


@pytest.mark.parametrize("shape", DEEP_BODIES)
@pytest.mark.parametrize("endpoint", BODY_ENDPOINTS, ids=endpoint_id)
def test_views_refuse_deep_json_without_the_middleware(without_middleware, send, endpoint, shape):
    assert list(json_errors(send(endpoint, DEEP_BODIES[shape]), 400)) == ["body"]


def test_json_nested_as_deep_as_allowed_is_read(api, staff_key):
    extra = "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1)
    response = api.post("publishers/", staff_key, f'{{"name": "Deep Media", "extra": {extra}}}')
    assert response.status_code == 201, response.content


def test_deep_json_value_of_a_conversion_field_is_refused(client, click, advertiser_key):
    nested = "[" * DEEP + "]" * DEEP
    response = client.post(
        "/conversion/",
        f'{{"transaction_id": "{click.transaction_id}", "order_id": {nested}}}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {advertiser_key}",
    )
    assert list(json_errors(response, 400)) == ["body"]


@pytest.mark.parametrize("endpoint", BODY_ENDPOINTS + BODILESS_ACTIONS, ids=endpoint_id)
def test_oversized_json_body_is_a_413(send, settings, endpoint):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = send(endpoint, json.dumps({"name": "x" * 2000}))
    assert json_errors(response, 413) == {"body": ["The body is too large (at most 1000 bytes)."]}


@pytest.mark.parametrize("endpoint", BODY_ENDPOINTS, ids=endpoint_id)
def test_views_refuse_oversized_json_without_the_middleware(
    without_middleware, send, settings, endpoint
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = send(endpoint, json.dumps({"name": "x" * 2000}))
    assert list(json_errors(response, 413)) == ["body"]


@pytest.mark.parametrize("path", ["/conversion/", "/api/v1/publishers/"])
def test_oversized_form_body_is_a_413(client, staff_key, settings, path):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post(
        path,
        "name=" + "x" * 2000,
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Bearer {staff_key}",
    )
    assert list(json_errors(response, 413)) == ["body"]


@pytest.mark.parametrize("endpoint", ALL_ENDPOINTS, ids=endpoint_id)
def test_long_query_string_is_a_414(send, endpoint):
    response = send(endpoint, "{}", query=LONG_QUERY)
    assert json_errors(response, 414) == {
        "query_string": [
            f"The query string is {len(LONG_QUERY)} bytes long; at most 8192 are accepted."
        ]
    }


def test_query_string_limit_is_a_setting(client, settings):
    settings.MAX_QUERY_STRING = 100
    assert client.get("/api/v1/conversions/?" + "a" * 100).status_code == 401  # no key
    response = client.get("/api/v1/conversions/?" + "a" * 101)
    assert list(json_errors(response, 414)) == ["query_string"]


def test_long_query_string_of_a_click_is_a_plain_414(client, offer, publisher):
    response = client.get(f"/click/{offer.pk}/{publisher.pk}/?{LONG_QUERY}")
    assert response.status_code == 414
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize("path", ["/conversion/", "/api/v1/conversions/"])
def test_too_many_query_parameters_is_a_400(client, advertiser_key, path):
    query = "&".join(f"p{i}=1" for i in range(1001))
    response = client.get(f"{path}?{query}", HTTP_AUTHORIZATION=f"Bearer {advertiser_key}")
    assert json_errors(response, 400) == {"query_string": ["More than 1000 parameters."]}


@pytest.mark.parametrize("path", ["/conversion/", "/api/v1/conversions/", "/api/v1/schema/"])
def test_unknown_host_is_a_400(client, path):
    response = client.get(path, HTTP_HOST="elsewhere.example")
    assert list(json_errors(response, 400)) == ["host"]


def test_djangos_html_404_under_api_is_json(client):
    response = client.get("/api/v2/conversions/")
    assert json_errors(response, 404) == {"detail": ["Not Found."]}


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    "path, status, key",
    [("/api/too-big/", 413, "body"), ("/api/suspicious/", 400, "request")],
)
def test_refusals_raised_in_a_view_are_json(client, path, status, key):
    assert list(json_errors(client.get(path), status)) == [key]


@pytest.mark.urls(__name__)
def test_refusals_elsewhere_keep_djangos_page(client):
    response = client.get("/elsewhere/suspicious/")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


def test_unexpected_errors_are_left_to_django(rf):
    middleware = JsonRefusalsMiddleware(lambda request: None)
    assert middleware.process_exception(rf.get("/api/v1/"), RuntimeError("boom")) is None


@pytest.mark.parametrize(
    "body, deeper",
    [
        (b'{"a": 1}', False),
        (b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH, False),
        (b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1), True),
        (b"[[]," * MAX_JSON_DEPTH + b"[]" + b"]" * MAX_JSON_DEPTH, True),  # siblings on the way
        (b"[[1]," * (MAX_JSON_DEPTH - 1) + b"[]" + b"]" * (MAX_JSON_DEPTH - 1), False),
        (b'["' + b"[" * 100 + b'"]', False),  # brackets in a string do not nest
        (b'["\\"[' + b"[" * 100 + b'"]', False),  # nor after an escaped quote
        (b"[" * 100, True),  # unclosed, and too deep on the way
        (b"]" * 100 + b"[" * 10, False),  # unbalanced: left to the parser
    ],
)
def test_nesting_is_measured_without_parsing(body, deeper):
    assert nested_deeper_than(body, MAX_JSON_DEPTH) is deeper


def test_parser_refuses_deep_and_large_bodies(settings):
    parser = LimitedJSONParser()
    assert parser.parse(io.BytesIO(b'{"a": [1]}')) == {"a": [1]}
    with pytest.raises(ParseError, match="nested deeper"):
        parser.parse(io.BytesIO(DEEP_BODIES["arrays"].encode()))
    with pytest.raises(ParseError):  # DRF's strict JSON stays: no NaN
        parser.parse(io.BytesIO(b'{"a": NaN}'))
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    with pytest.raises(RequestDataTooBig):
        parser.parse(io.BytesIO(b'{"a": "0123456789"}'))


def test_read_at_most_reads_up_to_the_limit():
    assert read_at_most(io.BytesIO(b"12345"), 5) == b"12345"
    assert read_at_most(io.BytesIO(b"12345"), None) == b"12345"
    with pytest.raises(RequestDataTooBig):
        read_at_most(io.BytesIO(b"123456"), 5)


def test_json_body_is_parsed_once_per_request():
    request = RequestFactory().post("/conversion/", '{"a": 1}', content_type="application/json")
    assert json_body(request) is json_body(request)


def test_json_body_that_is_not_an_object_is_refused():
    request = RequestFactory().post("/conversion/", "[1]", content_type="application/json")
    with pytest.raises(BadRequest) as problem:
        json_body(request)
    assert problem.value.errors == {"body": ["The JSON body must be an object."]}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_all_request_line_limit() -> str:
    """The --limit-request-line that bin/run-all gives gunicorn: the test uses the same."""
    script = (ROOT / "bin" / "run-all").read_text()
    return re.search(r"^gunicorn .*--limit-request-line[ =](\d+)", script, re.M).group(1)


@pytest.fixture
def gunicorn_port():
    port = free_port()
    command = [str(Path(sys.executable).parent / "gunicorn"), "integr8.wsgi"]
    command += ["-b", f"127.0.0.1:{port}", "-w", "1", "--log-level", "warning"]
    command += ["--limit-request-line", run_all_request_line_limit()]
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="integr8.test_settings")
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        wait_until_answering(port, server)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


def wait_until_answering(port: int, server: subprocess.Popen, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if get(port, "/api/v1/")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"gunicorn did not answer within {seconds} s")


def get(port: int, target: str) -> tuple[int, str, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", target)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        connection.close()


def test_gunicorn_lets_the_json_414_answer(gunicorn_port):
    for target in ("/api/v1/conversions/", "/conversion/"):
        status, content_type, body = get(gunicorn_port, f"{target}?{LONG_QUERY}")
        assert (status, content_type) == (414, "application/json"), body[:300]
        assert list(json.loads(body)["errors"]) == ["query_string"]


# The schema states the limits the code enforces, so a schema-driven client meets no surprise.

NAMED = ["advertisers", "offers", "offer-events", "publishers", "postback-configs"]
NAME_COMPONENTS = ["Advertiser", "Offer", "OfferEvent", "Publisher", "PostbackConfig"]
ID_MAX = 2**63 - 1


@pytest.fixture
def schema(client):
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def operations(schema):
    for route, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield route, method, operation


def test_schema_bounds_page_size(schema):
    sizes = [
        parameter["schema"]
        for _, _, operation in operations(schema)
        for parameter in operation.get("parameters", [])
        if parameter["name"] == "page_size"
    ]
    assert len(sizes) == 9  # every list
    bounded = {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}
    assert all(size == bounded for size in sizes)


@pytest.mark.parametrize("size, status", [("0", 400), ("1", 200), ("1000", 200), ("1001", 400)])
def test_page_size_is_refused_outside_the_bounds(api, staff_key, size, status):
    response = api.get("publishers/", staff_key, {"page_size": size})
    assert response.status_code == status
    if status == 400:
        assert list(errors(response)) == ["page_size"]


def test_schema_states_path_ids_as_row_ids(schema):
    ids = [
        (route, parameter["schema"])
        for route, _, operation in operations(schema)
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path"
    ]
    assert ids and all("{id}" in route for route, _ in ids)
    assert all(found == {"type": "integer", "minimum": 1, "maximum": ID_MAX} for _, found in ids)


@pytest.mark.parametrize("pk", [0, ID_MAX, ID_MAX + 1, 10**30])
@pytest.mark.parametrize(
    "method, route",
    [
        ("GET", "publishers/{}/"),
        ("PATCH", "publishers/{}/"),
        ("DELETE", "publishers/{}/"),
        ("GET", "conversions/{}/"),
        ("POST", "conversions/{}/refire/"),
        ("POST", "postback-configs/{}/test/"),
    ],
)
def test_ids_no_row_has_are_404(api, staff_key, method, route, pk):
    body = None if method == "GET" else {"name": "x"}
    response = api.call(method, route.format(pk), staff_key, body)
    assert response.status_code == 404
    assert list(errors(response)) == ["detail"]


@pytest.mark.parametrize("component", NAME_COMPONENTS)
def test_schema_refuses_blank_names(schema, component):
    for variant in (component, f"Patched{component}"):
        name = schema["components"]["schemas"][variant]["properties"]["name"]
        assert name["minLength"] == 1
        assert name["pattern"] == r"[^\s\u001c-\u001f\u0085]"


def test_name_pattern_agrees_with_drfs_trimming(schema):
    name = schema["components"]["schemas"]["Publisher"]["properties"]["name"]
    pattern = re.compile(name["pattern"])
    for code in range(0x10000):
        character = chr(code)
        assert (pattern.search(character) is None) is (character.strip() == ""), hex(code)


@pytest.mark.parametrize("resource", NAMED)
@pytest.mark.parametrize("blank", ["", "   ", "\t\n", "\x1c\x85", "\u3000"])
def test_blank_names_are_refused(api, staff_key, ids, resource, blank):
    key = {"offer-events": "event", "postback-configs": "config"}.get(resource, resource[:-1])
    response = api.patch(f"{resource}/{ids[key]}/", staff_key, {"name": blank})
    assert response.status_code == 400
    assert list(errors(response)) == ["name"]


def test_names_are_trimmed(api, staff_key):
    response = api.post("publishers/", staff_key, {"name": "  Spaced Media \u3000"})
    assert response.status_code == 201
    assert response.json()["name"] == "Spaced Media"


def test_schema_states_the_conversion_filters_bounds(schema):
    found = {
        parameter["name"]: parameter["schema"]
        for parameter in schema["paths"]["/api/v1/conversions/"]["get"]["parameters"]
    }
    assert found["transaction_id"] == {"type": "string", "maxLength": 64}
    for name in ("offer_id", "publisher_id"):
        assert found[name] == {"type": "integer", "minimum": 1, "maximum": ID_MAX}


@pytest.mark.parametrize(
    "params, field",
    [
        ({"offer_id": "0"}, "offer_id"),
        ({"publisher_id": str(ID_MAX + 1)}, "publisher_id"),
        ({"offer_id": "1.5"}, "offer_id"),
        ({"transaction_id": "t" * 65}, "transaction_id"),
    ],
)
def test_conversion_filters_outside_the_bounds_are_400(api, advertiser_key, params, field):
    response = api.get("conversions/", advertiser_key, params)
    assert response.status_code == 400
    assert list(errors(response)) == [field]


def test_every_operation_documents_the_error_shape(schema):
    for route, method, operation in operations(schema):
        if route == "/api/v1/custom-postback/":  # lists its statuses one by one
            continue
        other = operation["responses"]["4XX"]["content"]["application/json"]["schema"]
        assert other == {"$ref": "#/components/schemas/Error"}, (method, route)


def test_schema_states_the_idempotency_key_rule(schema):
    refire = schema["paths"]["/api/v1/conversions/{id}/refire/"]["post"]
    (header,) = [p for p in refire["parameters"] if p["name"] == "Idempotency-Key"]
    pattern = re.compile(header["schema"]["pattern"])
    assert pattern.search("retry-1") and not pattern.search("two words")
    assert not pattern.search("") and not pattern.search("k" * 256)


@pytest.mark.parametrize(
    "route, body, field",
    [
        ("conversions/refire/", {"transaction_ids": ["  "]}, "transaction_ids.0"),
        ("conversions/{conversion}/reject/", {"reason": " \t "}, "reason"),
    ],
)
def test_blank_texts_are_refused(api, advertiser_key, ids, route, body, field):
    response = api.post(route.format(**ids), advertiser_key, body)
    assert response.status_code == 400
    assert list(errors(response)) == [field]


def test_schema_states_currency_and_allowlist_text(schema):
    offer = schema["components"]["schemas"]["Offer"]["properties"]
    assert offer["currency"]["pattern"] == "^[A-Za-z]{3}$"
    entry = schema["components"]["schemas"]["Advertiser"]["properties"]["ip_allowlist"]["items"]
    assert entry["minLength"] == 1 and entry["pattern"] == r"[^\s\u001c-\u001f\u0085]"
