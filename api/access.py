"""Who may see what: every API queryset is scoped here, in one place.

Staff (a staff API key or a staff session) see everything. An advertiser's key sees its
own offers' conversions and postback logs only; anything else does not exist for it, so
another advertiser's objects answer 404 and their IDs leak nothing.
"""

from django.db.models import QuerySet
from rest_framework import permissions

from offers.models import Advertiser, ConversionQuerySet, Offer
from postbacks.models import PostbackLog


def caller_advertiser(user) -> Advertiser | None:
    """The advertiser behind an API key; None for staff and for session users."""
    return getattr(user, "advertiser", None)


def is_staff(user) -> bool:
    return bool(user and user.is_authenticated and user.is_staff)


def scoped(queryset: QuerySet, user) -> QuerySet:
    """The rows of `queryset` that `user` may see."""
    if is_staff(user):
        return queryset
    advertiser = caller_advertiser(user)
    if advertiser is None:
        return queryset.none()
    if isinstance(queryset, ConversionQuerySet):
        return queryset.for_advertiser(advertiser)
    if queryset.model is PostbackLog:
        # offer_id is a plain column (logs never join); match it against the advertiser's offers.
        own_offers = Offer.objects.filter(advertiser=advertiser).values("id")
        return queryset.filter(offer_id__in=own_offers)
    return queryset.none()


def caller_id(user) -> str:
    """A stable name for the caller, e.g. to keep Idempotency-Keys apart."""
    api_key = getattr(user, "api_key", None)
    if api_key is not None:
        return f"api-key:{api_key.pk}"
    return f"user:{user.pk}"


class IsStaffOrAdvertiser(permissions.BasePermission):
    """Staff, or an advertiser's API key; a non-staff session user has no business here."""

    message = "Use an advertiser's or a staff API key, or a staff login."

    def has_permission(self, request, view) -> bool:
        return is_staff(request.user) or caller_advertiser(request.user) is not None


class IsStaff(permissions.BasePermission):
    message = "Only staff API keys and staff logins manage this resource."

    def has_permission(self, request, view) -> bool:
        return is_staff(request.user)
