from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from offers import views as tracking
from offers.custom_postback import custom_postback

urlpatterns = [
    path("", include("health.urls")),
    path("click/<int:offer_id>/<int:publisher_id>/", tracking.click, name="click"),
    path("conversion/", tracking.conversion, name="conversion"),
    path("api/v1/custom-postback/", custom_postback, name="custom-postback"),
    path("api/v1/", include("api.urls")),
    path("logs/", include("logs.urls")),
    path("alerts/", include("alerts.urls")),
    path("reports/", include("reports.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]
