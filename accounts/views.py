from django.contrib.auth import views as auth_views
from django.urls import reverse

from accounts.access import scope_of


class LoginView(auth_views.LoginView):
    """Staff land on LOGIN_REDIRECT_URL, portal users on their portal (unless ?next=)."""

    def get_default_redirect_url(self) -> str:
        if scope_of(self.request.user).portal:
            return reverse("portal:home")
        return super().get_default_redirect_url()
