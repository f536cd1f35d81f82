"""Who may see what (SPEC §6, §14): the one access rule of every page, export and API view.

A caller is staff (a staff login or a staff API key: everything), an advertiser (its API
key, or a portal user of the advertiser: its own offers' conversions, deliveries and
postback logs), a publisher (a portal user of the publisher: its own postback configs and
their attempts), or nobody. `Scope.rows()` narrows a queryset to what the caller may see;
a row outside it does not exist for them, so it answers 404 and its ID leaks nothing.
Models the rule does not know are refused: a new model is invisible until added here.
"""

from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.shortcuts import redirect

from offers.models import Advertiser, Conversion, Offer, Publisher
from postbacks.models import Delivery, PostbackConfig, PostbackLog

SCOPE_ATTRIBUTE = "_integr8_scope"


@dataclass(frozen=True)
class Scope:
    staff: bool = False
    advertiser: Advertiser | None = None
    publisher: Publisher | None = None
    portal: bool = False  # a signed-in portal user (not an API key)

    @property
    def kind(self) -> str:
        if self.staff:
            return "staff"
        if self.advertiser is not None:
            return "advertiser"
        if self.publisher is not None:
            return "publisher"
        return "none"

    @property
    def can_edit_configs(self) -> bool:
        return self.staff or (self.publisher is not None and self.publisher.portal_can_edit)

    def rows(self, queryset: QuerySet) -> QuerySet:
        """The rows of `queryset` this caller may see."""
        if self.staff:
            return queryset
        model = queryset.model
        if self.advertiser is not None:
            own_offers = Offer.objects.filter(advertiser=self.advertiser).values("id")
            if model is Conversion:
                return queryset.filter(offer__advertiser=self.advertiser)
            if model is PostbackLog:
                # offer_id is a plain column (logs never join): match it against the offers.
                return queryset.filter(offer_id__in=own_offers)
            if model is Delivery:
                return queryset.filter(
                    Q(conversion__offer__advertiser=self.advertiser)
                    | Q(click__offer__advertiser=self.advertiser)
                )
        if self.publisher is not None:
            if model is PostbackLog:
                return queryset.filter(publisher_id=self.publisher.pk)
            if model is PostbackConfig:
                return queryset.filter(publisher=self.publisher)
        return queryset.none()


NOBODY = Scope()


def scope_of(user) -> Scope:
    """The caller's scope: from an API key (api.authentication.ApiKeyUser), staff, or a
    portal membership. Kept on the user object for the rest of the request."""
    if user is None or not user.is_authenticated:
        return NOBODY
    cached = getattr(user, SCOPE_ATTRIBUTE, None)
    if cached is not None:
        return cached
    scope = _scope(user)
    try:
        setattr(user, SCOPE_ATTRIBUTE, scope)
    except AttributeError:  # a SimpleLazyObject that refuses: compute again next time
        pass
    return scope


def _scope(user) -> Scope:
    if user.is_staff:
        return Scope(staff=True)
    api_key = getattr(user, "api_key", None)
    if api_key is not None:
        return Scope(advertiser=api_key.advertiser)
    from accounts.models import Membership  # the model imports nothing of ours back

    membership = (
        Membership.objects.select_related("publisher", "advertiser").filter(user=user).first()
    )
    if membership is None:
        return NOBODY
    return Scope(advertiser=membership.advertiser, publisher=membership.publisher, portal=True)


def staff_required(view):
    """Staff pages: anonymous users go to the login page; portal users get 404 (nothing is
    there for them); other signed-in non-staff users get 403."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_staff:
            if scope_of(request.user).portal:
                raise Http404("Not found.")
            raise PermissionDenied("These pages are for staff.")
        return view(request, *args, **kwargs)

    return wrapped


def portal_required(*kinds: str):
    """Portal pages for these kinds of user ("publisher", "advertiser"); staff may look
    too. Anonymous users go to the login page; anybody else gets 404."""

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            scope = scope_of(request.user)
            if not scope.staff and scope.kind not in kinds:
                raise Http404("Not found.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def portal_home_for_portal_users(view):
    """The site's front page sends portal users to their portal instead of a 404."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if scope_of(request.user).portal:
            return redirect("portal:home")
        return view(request, *args, **kwargs)

    return wrapped
