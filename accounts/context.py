from django.http import HttpRequest

from accounts.access import Scope, scope_of


def scope(request: HttpRequest) -> dict[str, Scope]:
    """`scope` in every template: who is signed in (staff, or whose portal user)."""
    return {"scope": scope_of(getattr(request, "user", None))}
