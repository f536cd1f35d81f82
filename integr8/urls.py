from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts.views import LoginView
from offers import views as tracking
from offers.custom_postback import custom_postback
from portal.urls import log_patterns as portal_log_patterns

urlpatterns = [
    # First: URLs are matched in order, and the click is the request there is most of.
    path("click/<int:offer_id>/<int:publisher_id>/", tracking.click, name="click"),
    path("conversion/", tracking.conversion, name="conversion"),
    path("", include("health.urls")),
    path("api/v1/custom-postback/", custom_postback, name="custom-postback"),
    path("api/v1/", include("api.urls")),
    path("logs/", include("logs.urls")),
    path("alerts/", include("alerts.urls")),
    path("reports/", include("reports.urls")),
    path("portal/logs/", include((portal_log_patterns, "logs"), namespace="portal-logs")),
    path("portal/", include("portal.urls")),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]
