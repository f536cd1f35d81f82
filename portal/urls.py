"""/portal/ (SPEC §14). The attempts pages are the /logs/ views, mounted again as the
"portal-logs" instance of the logs namespace (integr8/urls.py), behind portal_required."""

from django.urls import path

from accounts.access import portal_required
from logs import views as log_views
from portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("configs/", views.config_list, name="configs"),
    path("configs/<int:pk>/", views.config_detail, name="config"),
    path("configs/<int:pk>/test/", views.config_test, name="config-test"),
    path("conversions/", views.conversion_list, name="conversions"),
    path("conversions/<int:pk>/", views.conversion_detail, name="conversion"),
    path("conversions/<int:pk>/refire/", views.conversion_refire, name="conversion-refire"),
    path("conversions/<int:pk>/reject/", views.conversion_reject, name="conversion-reject"),
    path("conversions/<int:pk>/approve/", views.conversion_approve, name="conversion-approve"),
]

anyone = portal_required("publisher", "advertiser")
log_patterns = [
    path("", anyone(log_views.log_list), name="list"),
    path("export.csv", anyone(log_views.log_export), name="export"),
    path("rows/", anyone(log_views.log_rows), name="rows"),
    path("<int:pk>/", anyone(log_views.log_detail), name="detail"),
    # Advertisers re-fire their attempts; publishers read theirs.
    path("<int:pk>/refire/", portal_required("advertiser")(log_views.log_refire), name="refire"),
]
