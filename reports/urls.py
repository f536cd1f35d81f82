from django.urls import path

from reports import views

app_name = "reports"
urlpatterns = [
    path("reconciliation/", views.reconciliation, name="reconciliation"),
    path("reconciliation/match/", views.match_upload, name="match"),
    path("reconciliation/match/<int:pk>/", views.match_result, name="match-result"),
    path("reconciliation/match/<int:pk>/<str:which>.csv", views.match_csv, name="match-csv"),
]
