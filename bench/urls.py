from django.http import HttpResponseRedirect
from django.urls import path

from integr8.urls import urlpatterns as platform_urls


def bare_redirect(request):
    return HttpResponseRedirect("https://store.example/app?cid=baseline")


urlpatterns = [path("bench/bare-redirect/", bare_redirect), *platform_urls]
