"""Portal isolation, table-driven over the whole URL conf (SPEC §14).

Every route of the project is in ROUTES with what a publisher's and an advertiser's
portal user get there. A new route that is not in the table fails
`test_every_route_is_in_the_table`, so none can skip the access rule.
"""

import json
import re
from dataclasses import dataclass, field

import pytest
from django.urls import URLResolver, get_resolver

# What a portal user gets on a route:
NOT_FOUND = "404"  # with their own IDs and with others' (nothing there for them)
PUBLIC = "public"  # not behind a login (tracking endpoints, login, API docs), see below
ADMIN = "admin"  # Django's admin: sent to its login page
OWN = "own"  # their own rows answer (no 403/404/5xx, nothing of theirs); others' IDs 404


@dataclass(frozen=True)
class Route:
    publisher: str
    advertiser: str
    method: str = "get"
    data: dict = field(default_factory=dict)
    object: str = ""  # which object's ID fills the route's pk: log, config or conversion
    query: str = ""


def staff(method: str = "get", **kwargs) -> Route:
    return Route(NOT_FOUND, NOT_FOUND, method, **kwargs)


def public() -> Route:
    return Route(PUBLIC, PUBLIC)


def api_staff(path_has_pk: bool = False, method: str = "get") -> Route:
    return Route(NOT_FOUND, NOT_FOUND, method, object="config" if path_has_pk else "")


ROUTES: dict[str, Route] = {
    # The front page sends portal users to their portal.
    "": Route(OWN, OWN),
    "configs/<int:pk>/enable/": staff("post", object="config"),
    # Public by design: tracking (authenticated by the advertiser's key or the offer link),
    # the login itself, and the API's root, schema and docs (which hold no data).
    "click/<int:offer_id>/<int:publisher_id>/": public(),
    "conversion/": public(),
    "api/v1/custom-postback/": public(),
    "accounts/login/": public(),
    "accounts/logout/": public(),
    "api/v1/": public(),
    "api/v1/schema/": public(),
    "api/v1/docs/": public(),
    "api/v1/redoc/": public(),
    "api/v1/^[\\s\\S]*$": public(),  # the API's JSON 404 for unknown paths
    # The API.
    "api/v1/^conversions/$": Route(NOT_FOUND, OWN),
    "api/v1/^conversions/refire/$": Route(
        NOT_FOUND, OWN, "post", {"transaction_ids": ["tid-ours", "tid-unknown"]}
    ),
    "api/v1/^conversions/(?P<pk>[0-9]+)/$": Route(NOT_FOUND, OWN, object="conversion"),
    "api/v1/^conversions/(?P<pk>[0-9]+)/approve/$": Route(
        NOT_FOUND, OWN, "post", object="conversion"
    ),
    "api/v1/^conversions/(?P<pk>[0-9]+)/refire/$": Route(
        NOT_FOUND, OWN, "post", {"only_failed": True}, object="conversion"
    ),
    "api/v1/^conversions/(?P<pk>[0-9]+)/reject/$": Route(
        NOT_FOUND, OWN, "post", {"reason": "fraud"}, object="conversion"
    ),
    "api/v1/^postback-logs/$": Route(OWN, OWN),
    "api/v1/^postback-logs/refire/$": Route(NOT_FOUND, OWN, "post", {}, query="?status=failed"),
    "api/v1/^advertisers/$": api_staff(),
    "api/v1/^advertisers/(?P<pk>[0-9]+)/$": api_staff(True),
    "api/v1/^offers/$": api_staff(),
    "api/v1/^offers/(?P<pk>[0-9]+)/$": api_staff(True),
    "api/v1/^offer-events/$": api_staff(),
    "api/v1/^offer-events/(?P<pk>[0-9]+)/$": api_staff(True),
    "api/v1/^publishers/$": api_staff(),
    "api/v1/^publishers/(?P<pk>[0-9]+)/$": api_staff(True),
    "api/v1/^postback-configs/$": Route(OWN, NOT_FOUND),
    "api/v1/^postback-configs/(?P<pk>[0-9]+)/$": Route(OWN, NOT_FOUND, object="config"),
    "api/v1/^postback-configs/(?P<pk>[0-9]+)/test/$": Route(
        OWN, NOT_FOUND, "post", object="config"
    ),
    "api/v1/^alert-rules/$": api_staff(),
    "api/v1/^alert-rules/(?P<pk>[0-9]+)/$": api_staff(True),
    "api/v1/^alerts/$": api_staff(),
    "api/v1/^alerts/(?P<pk>[0-9]+)/$": api_staff(True),
    "api/v1/stats/": Route(NOT_FOUND, OWN),
    "api/v1/privacy/erase/": Route(NOT_FOUND, OWN, "post", {"device_ids": ["gaid-nobody"]}),
    "api/v1/reports/reconciliation/": Route(NOT_FOUND, OWN),
    "api/v1/reports/reconciliation/match/": Route(NOT_FOUND, OWN, "post"),
    # Staff pages.
    "logs/": staff(),
    "logs/export.csv": staff(),
    "logs/rows/": staff(query="?after=0"),
    "logs/refire/": staff(query="?status=failed"),
    "logs/refire/<int:pk>/": staff(object="log"),
    "logs/refire/<int:pk>/progress.json": staff(object="log"),
    "logs/<int:pk>/": staff(object="log"),
    "logs/<int:pk>/refire/": staff("post", object="log"),
    "alerts/": staff(),
    "reports/reconciliation/": staff(),
    "reports/reconciliation/match/": staff(),
    "reports/reconciliation/match/<int:pk>/": staff(object="log"),
    "reports/reconciliation/match/<int:pk>/<str:which>.csv": staff(object="log"),
    # The portal.
    "portal/": Route(OWN, OWN),
    "portal/logs/": Route(OWN, OWN),
    "portal/logs/export.csv": Route(OWN, OWN),
    "portal/logs/rows/": Route(OWN, OWN, query="?after=0"),
    "portal/logs/<int:pk>/": Route(OWN, OWN, object="log"),
    "portal/logs/<int:pk>/refire/": Route(NOT_FOUND, OWN, "post", object="log"),
    "portal/configs/": Route(OWN, NOT_FOUND),
    "portal/configs/<int:pk>/": Route(OWN, NOT_FOUND, object="config"),
    "portal/configs/<int:pk>/test/": Route(OWN, NOT_FOUND, "post", object="config"),
    "portal/conversions/": Route(NOT_FOUND, OWN),
    "portal/conversions/<int:pk>/": Route(NOT_FOUND, OWN, object="conversion"),
    "portal/conversions/<int:pk>/refire/": Route(NOT_FOUND, OWN, "post", object="conversion"),
    "portal/conversions/<int:pk>/reject/": Route(
        NOT_FOUND, OWN, "post", {"reason": "fraud"}, object="conversion"
    ),
    "portal/conversions/<int:pk>/approve/": Route(NOT_FOUND, OWN, "post", object="conversion"),
}


def project_routes() -> list[str]:
    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern)

    return list(walk(get_resolver().url_patterns))


def test_every_route_is_in_the_table():
    routes = [route for route in project_routes() if not route.startswith("admin/")]
    missing = [route for route in routes if route not in ROUTES]
    assert not missing, f"Add these routes to ROUTES with who may see them: {missing}"
    assert not set(ROUTES) - set(routes), "ROUTES names routes that no longer exist"


def _path(route: str, pk: int | None) -> str:
    path = "/" + route.replace("^", "").replace("$", "")
    path = re.sub(r"<int:pk>|\(\?P<pk>\[0-9\]\+\)", str(pk or 1), path)
    return path.replace("<str:which>", "ours")


def _request(client, route: str, rule: Route, pk: int | None):
    path = _path(route, pk) + rule.query
    if rule.method == "post":
        is_api = route.startswith("api/")
        if is_api:
            return client.post(path, json.dumps(rule.data), content_type="application/json")
        return client.post(path, rule.data)
    return client.get(path)


def _body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def _ids(rule: Route, side) -> int | None:
    return getattr(side, rule.object).pk if rule.object else None


CHECKED = [(route, rule) for route, rule in ROUTES.items()]


@pytest.mark.parametrize("kind", ["publisher", "advertiser"])
@pytest.mark.parametrize(("route", "rule"), CHECKED, ids=[route for route, _ in CHECKED])
def test_portal_users_stay_in_their_scope(
    request, kind, route, rule, ours, theirs, crossed, publisher_client, advertiser_client
):
    client = publisher_client if kind == "publisher" else advertiser_client
    expected = getattr(rule, kind)
    if expected == PUBLIC:
        pytest.skip("a public route: no portal data behind it")
    own = _request(client, route, rule, _ids(rule, ours))
    if expected == NOT_FOUND:
        assert own.status_code == 404, f"{route}: {own.status_code}"
        assert b"theirs" not in _body(own)
        return
    assert own.status_code < 500 and own.status_code not in (401, 403, 404), (
        f"{route}: {own.status_code} {_body(own)[:300]!r}"
    )
    assert b"theirs" not in _body(own), f"{route} shows their data"
    if rule.object:
        other = _request(client, route, rule, _ids(rule, theirs))
        assert other.status_code == 404, f"{route} with their ID: {other.status_code}"
        assert b"theirs" not in _body(other)


@pytest.mark.parametrize("kind", ["publisher", "advertiser"])
def test_the_admin_sends_portal_users_to_its_login(kind, publisher_client, advertiser_client):
    client = publisher_client if kind == "publisher" else advertiser_client
    for path in ("/admin/", "/admin/postbacks/postbacklog/", "/admin/offers/conversion/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
