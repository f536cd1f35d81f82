from django.urls import path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.routers import SimpleRouter

from api import views
from api.errors import not_found

router = SimpleRouter()
router.register("conversions", views.ConversionViewSet, basename="conversion")
router.register("postback-logs", views.PostbackLogViewSet, basename="postback-log")
router.register("advertisers", views.AdvertiserViewSet, basename="advertiser")
router.register("offers", views.OfferViewSet, basename="offer")
router.register("offer-events", views.OfferEventViewSet, basename="offer-event")
router.register("publishers", views.PublisherViewSet, basename="publisher")
router.register("postback-configs", views.PostbackConfigViewSet, basename="postback-config")
router.register("alert-rules", views.AlertRuleViewSet, basename="alert-rule")
router.register("alerts", views.AlertViewSet, basename="alert")

urlpatterns = [
    path("", views.api_root, name="api-root"),
    *router.urls,
    path("stats/", views.StatsView.as_view(), name="stats"),
    path("privacy/erase/", views.ErasureView.as_view(), name="privacy-erase"),
    path(
        "reports/reconciliation/",
        views.ReconciliationView.as_view(),
        name="reconciliation",
    ),
    path(
        "reports/reconciliation/match/",
        views.ReconciliationMatchView.as_view(),
        name="reconciliation-match",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's init script as a file: no inline script (CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    # Anything else under /api/v1/ answers a JSON 404 in the API's error shape.
    re_path(r"^[\s\S]*$", not_found),  # [\s\S]: newlines in a path too
]
