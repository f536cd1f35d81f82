"""/logs/ (staff). The list, detail, CSV and live rows are mounted under /portal/logs/ too
(portal/urls.py): the views scope their rows by accounts.access, these wrappers decide
who may come in."""

from django.urls import path

from accounts.access import staff_required
from logs import refire_views, views

app_name = "logs"
urlpatterns = [
    path("", staff_required(views.log_list), name="list"),
    path("export.csv", staff_required(views.log_export), name="export"),
    path("rows/", staff_required(views.log_rows), name="rows"),
    path("refire/", refire_views.refire_matching, name="refire-matching"),
    path("refire/<int:pk>/", refire_views.refire_job, name="refire-job"),
    path(
        "refire/<int:pk>/progress.json",
        refire_views.refire_job_progress,
        name="refire-job-progress",
    ),
    path("<int:pk>/", staff_required(views.log_detail), name="detail"),
    path("<int:pk>/refire/", staff_required(views.log_refire), name="refire"),
]
