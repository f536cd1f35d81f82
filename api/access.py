"""The API's side of the access rule: accounts.access decides, these classes apply it.

Staff (a staff API key or a staff login) see everything. An advertiser (its key or one of
its portal users) sees its own offers' conversions and postback logs; a publisher's portal
user its own postback logs and configs. A row outside the caller's scope answers 404. A
portal user asking for a route that is not theirs gets 404 too; an advertiser's key
asking for a staff route keeps its 403 and the reason.
"""

from django.db.models import QuerySet
from rest_framework import exceptions, permissions

from accounts.access import scope_of
from offers.models import Advertiser


def caller_advertiser(user) -> Advertiser | None:
    """The advertiser an API key or a portal user acts for; None for staff."""
    return scope_of(user).advertiser


def is_staff(user) -> bool:
    return scope_of(user).staff


def scoped(queryset: QuerySet, user) -> QuerySet:
    """The rows of `queryset` that `user` may see (accounts.access.Scope.rows)."""
    return scope_of(user).rows(queryset)


def caller_id(user) -> str:
    """A stable name for the caller, e.g. to keep Idempotency-Keys apart."""
    api_key = getattr(user, "api_key", None)
    if api_key is not None:
        return f"api-key:{api_key.pk}"
    return f"user:{user.pk}"


class ScopePermission(permissions.BasePermission):
    """Lets the caller kinds in `kinds` through; a portal user of another kind gets 404."""

    kinds: tuple[str, ...] = ("staff",)
    message = "Only staff API keys and staff logins manage this resource."

    def has_permission(self, request, view) -> bool:
        scope = scope_of(request.user)
        if scope.kind in self.kinds:
            return True
        if scope.portal:
            raise exceptions.NotFound()
        return False


class IsStaffOrAdvertiser(ScopePermission):
    """Staff, or an advertiser; a non-staff session user has no business here."""

    kinds = ("staff", "advertiser")
    message = "Use an advertiser's or a staff API key, or a staff login."


class IsStaff(ScopePermission):
    kinds = ("staff",)


class CanReadLogs(ScopePermission):
    kinds = ("staff", "advertiser", "publisher")
    message = "Use an advertiser's or a staff API key, or a staff or portal login."


class PostbackConfigAccess(ScopePermission):
    """Staff manage every config. A publisher's portal user reads its own and sends tests;
    it changes them only when its publisher allows it (Publisher.portal_can_edit), and
    never creates or deletes them."""

    kinds = ("staff", "publisher")
    PUBLISHER_ACTIONS = ("list", "retrieve", "test", "update", "partial_update")

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        scope = scope_of(request.user)
        if scope.staff or view.action in self.PUBLISHER_ACTIONS:
            return True
        self.message = "Postback configs are created and deleted by the network's staff."
        return False

    def has_object_permission(self, request, view, obj) -> bool:
        scope = scope_of(request.user)
        if view.action in ("update", "partial_update") and not scope.can_edit_configs:
            self.message = "Your postback configs are read-only: ask the network to change them."
            return False
        return True
