"""The portals (SPEC §14): thin pages over the same services as the API.

Publisher users: their postback configs (read-only, or editable when the publisher allows
it) and Send test; their attempts are the /logs/ views under /portal/logs/. Advertiser
users: their conversions with re-fire, reject and approve, and their attempts. Every
queryset goes through accounts.access, so another owner's row answers 404.
"""

from django.contrib import messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.access import Scope, portal_required, scope_of
from offers.models import Conversion, Offer
from portal.forms import ConversionFilterForm, PublisherConfigForm, RefireForm, RejectForm
from postbacks import rules, services
from postbacks.models import DeliveryState, PostbackConfig, PostbackLog, Trigger

PAGE_SIZE = 50
RECENT_ATTEMPTS = 20
TEST_PARAMETER = "test"  # /portal/configs/<id>/?test=<attempt id> shows a Send test's answer


def _scope(request: HttpRequest) -> Scope:
    return scope_of(request.user)


@portal_required("publisher", "advertiser")
def home(request: HttpRequest) -> HttpResponse:
    """Publishers start at their attempts, advertisers at their conversions."""
    if _scope(request).advertiser is not None:
        return redirect("portal:conversions")
    return redirect("portal-logs:list")


# Publishers: their postback configs.


def _configs(request: HttpRequest) -> QuerySet[PostbackConfig]:
    return _scope(request).rows(PostbackConfig.objects.select_related("offer", "event"))


@portal_required("publisher")
def config_list(request: HttpRequest) -> HttpResponse:
    configs = [
        (config, rules.masked_url(config.url, config.secret_parameters or []))
        for config in _configs(request).order_by("name", "id")
    ]
    context = {"configs": configs, "can_edit": _scope(request).can_edit_configs}
    return render(request, "portal/configs.html", context)


@portal_required("publisher")
def config_detail(request: HttpRequest, pk: int) -> HttpResponse:
    config = get_object_or_404(_configs(request), pk=pk)
    can_edit = _scope(request).can_edit_configs
    form = None
    if can_edit:
        form = PublisherConfigForm(request.POST or None, instance=config)
        if request.method == "POST" and form.is_valid():
            form.save()
            messages.success(request, "Saved. The next postbacks are sent with these settings.")
            return redirect("portal:config", pk=config.pk)
    elif request.method == "POST":
        messages.error(request, "Your postback configs are read-only: ask the network.")
        return redirect("portal:config", pk=config.pk)
    status = 400 if form is not None and form.is_bound and form.errors else 200
    config.refresh_from_db()  # a form that failed validation leaves its values on it
    context = {
        "config": config,
        "form": form,
        "can_edit": form is not None,
        "shown_url": rules.masked_url(config.url, config.secret_parameters or []),
        "shown_headers": rules.masked_headers(config.headers or {}),
        "test": _shown_test(request, config),
        "recent": _logs(request).filter(config_id=config.pk)[:RECENT_ATTEMPTS],
    }
    return render(request, "portal/config.html", context, status=status)


def _shown_test(request: HttpRequest, config: PostbackConfig) -> PostbackLog | None:
    """The test attempt named by ?test=<id>, when it is one of this config's."""
    test_id = request.GET.get(TEST_PARAMETER, "")
    if not test_id.isdigit() or len(test_id) > 18:
        return None
    tests = _logs(request).filter(config_id=config.pk, trigger=Trigger.TEST)
    return tests.filter(pk=int(test_id)).first()


@portal_required("publisher")
@require_POST
def config_test(request: HttpRequest, pk: int) -> HttpResponse:
    """Send test: fire the config once now with sample values, then show the answer on
    the config's page (a redirect, so reloading it sends nothing again)."""
    config = get_object_or_404(_configs(request), pk=pk)
    attempt = services.send_test(config)
    return redirect(f"{reverse('portal:config', args=[config.pk])}?{TEST_PARAMETER}={attempt.pk}")


# Advertisers: their conversions.


def _logs(request: HttpRequest) -> QuerySet[PostbackLog]:
    return _scope(request).rows(PostbackLog.objects.all())


def _conversions(request: HttpRequest) -> QuerySet[Conversion]:
    return _scope(request).rows(Conversion.objects.select_related("offer", "publisher", "event"))


@portal_required("advertiser")
def conversion_list(request: HttpRequest) -> HttpResponse:
    offers = Offer.objects.filter(advertiser=_scope(request).advertiser).order_by("name")
    form = ConversionFilterForm(request.GET, offers=offers)
    rows: list[Conversion] = []
    older = ""
    if form.is_valid():
        rows, older = _conversion_page(request, _conversions(request), form.cleaned_data)
    context = {"form": form, "rows": rows, "older_link": older}
    return render(
        request, "portal/conversions.html", context, status=200 if form.is_valid() else 400
    )


def _conversion_page(request, conversions, wanted: dict) -> tuple[list[Conversion], str]:
    """Newest first, PAGE_SIZE at a time by id (keyset, no OFFSET); the next page's link."""
    if wanted["transaction_id"]:
        conversions = conversions.filter(transaction_id=wanted["transaction_id"])
    if wanted["offer"] is not None:
        conversions = conversions.filter(offer=wanted["offer"])
    if wanted["status"]:
        conversions = conversions.filter(status=wanted["status"])
    if wanted["created_after"] is not None:
        conversions = conversions.filter(created__gte=wanted["created_after"])
    if wanted["created_before"] is not None:
        conversions = conversions.filter(created__lt=wanted["created_before"])
    if wanted["before"] is not None:
        conversions = conversions.filter(id__lt=wanted["before"])
    failed = Count("deliveries", filter=Q(deliveries__state=DeliveryState.FAILED))
    delivered = Count("deliveries", filter=Q(deliveries__state=DeliveryState.SUCCEEDED))
    rows = list(
        conversions.annotate(
            failed=failed, delivered=delivered, postbacks=Count("deliveries")
        ).order_by("-id")[: PAGE_SIZE + 1]
    )
    if len(rows) <= PAGE_SIZE:
        return rows, ""
    params = request.GET.copy()
    params["before"] = rows[PAGE_SIZE - 1].id
    return rows[:PAGE_SIZE], "?" + params.urlencode()


@portal_required("advertiser")
def conversion_detail(request: HttpRequest, pk: int) -> HttpResponse:
    conversion = get_object_or_404(_conversions(request), pk=pk)
    deliveries = conversion.deliveries.select_related("config").order_by("id")
    context = {
        "conversion": conversion,
        "deliveries": deliveries,
        "attempts": _logs(request).filter(conversion_id=conversion.pk)[:PAGE_SIZE],
        "reject_form": RejectForm(),
    }
    return render(request, "portal/conversion.html", context)


@portal_required("advertiser")
@require_POST
def conversion_refire(request: HttpRequest, pk: int) -> HttpResponse:
    conversion = get_object_or_404(_conversions(request), pk=pk)
    form = RefireForm(request.POST)
    only_failed = form.is_valid() and form.cleaned_data["only_failed"]
    queued = services.refire_conversion(conversion, only_failed=only_failed)
    if queued:
        messages.success(request, f"Re-fire queued: {queued} postback(s). Attempts appear below.")
    else:
        messages.error(request, _nothing_to_refire(conversion, only_failed))
    return redirect("portal:conversion", pk=pk)


def _nothing_to_refire(conversion: Conversion, only_failed: bool) -> str:
    if conversion.status == "rejected":
        return "Nothing re-fired: the conversion is rejected."
    if only_failed:
        return "Nothing re-fired: no postback of this conversion failed (or their configs are off)."
    return "Nothing re-fired: no enabled postback config matches this conversion."


@portal_required("advertiser")
@require_POST
def conversion_reject(request: HttpRequest, pk: int) -> HttpResponse:
    conversion = get_object_or_404(_conversions(request), pk=pk)
    form = RejectForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Not rejected: give a reason (up to 1,000 characters).")
        return redirect("portal:conversion", pk=pk)
    return _transition(request, conversion, services.reject_conversion, form.cleaned_data["reason"])


@portal_required("advertiser")
@require_POST
def conversion_approve(request: HttpRequest, pk: int) -> HttpResponse:
    conversion = get_object_or_404(_conversions(request), pk=pk)
    return _transition(request, conversion, services.approve_conversion)


def _transition(request, conversion: Conversion, change, *args) -> HttpResponse:
    try:
        queued = change(conversion, *args)
    except services.TransitionError as problem:
        messages.error(request, str(problem))
    else:
        done = "Rejected" if change is services.reject_conversion else "Approved"
        sent = f"{len(queued)} postback(s) queued" if queued else "no postback to send"
        messages.success(request, f"{done}; {sent}.")
    return redirect("portal:conversion", pk=conversion.pk)
