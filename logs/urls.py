from django.urls import path

from logs import refire_views, views

app_name = "logs"
urlpatterns = [
    path("", views.log_list, name="list"),
    path("export.csv", views.log_export, name="export"),
    path("rows/", views.log_rows, name="rows"),
    path("refire/", refire_views.refire_matching, name="refire-matching"),
    path("refire/<int:pk>/", refire_views.refire_job, name="refire-job"),
    path(
        "refire/<int:pk>/progress.json",
        refire_views.refire_job_progress,
        name="refire-job-progress",
    ),
    path("<int:pk>/", views.log_detail, name="detail"),
    path("<int:pk>/refire/", views.log_refire, name="refire"),
]
