from django.urls import path

from logs import views

app_name = "logs"
urlpatterns = [
    path("", views.log_list, name="list"),
    path("export.csv", views.log_export, name="export"),
    path("<int:pk>/", views.log_detail, name="detail"),
    path("<int:pk>/refire/", views.log_refire, name="refire"),
]
