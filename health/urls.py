from django.urls import path

from health import views

app_name = "health"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("configs/<int:pk>/enable/", views.reenable_config, name="enable-config"),
]
