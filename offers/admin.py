from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from offers.models import (
    REJECTION_REASON_MAX_LENGTH,
    Advertiser,
    ApiKey,
    Click,
    Conversion,
    Offer,
    OfferEvent,
    Publisher,
)
from postbacks import services


class OfferEventInline(admin.TabularInline):
    model = OfferEvent
    extra = 0


@admin.register(Advertiser)
class AdvertiserAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "default_offer", "created")
    search_fields = ("name",)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("prefix", "name", "advertiser", "is_staff", "revoked", "created", "last_used")
    list_filter = ("is_staff", "revoked")
    readonly_fields = ("prefix", "key_hash", "created", "last_used")
    fields = (
        "name",
        "advertiser",
        "is_staff",
        "revoked",
        "prefix",
        "key_hash",
        "created",
        "last_used",
    )

    def has_add_permission(self, request) -> bool:
        return False  # keys are issued with `manage.py create_api_key`, which shows them once


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "advertiser", "status", "revenue", "payout", "currency")
    list_filter = ("status",)
    search_fields = ("name",)
    inlines = [OfferEventInline]


@admin.register(OfferEvent)
class OfferEventAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "offer", "revenue", "payout")
    search_fields = ("name",)


@admin.register(Publisher)
class PublisherAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "status", "portal_can_edit", "created")
    list_filter = ("status", "portal_can_edit")
    search_fields = ("name",)


@admin.register(Click)
class ClickAdmin(admin.ModelAdmin):
    list_display = ("transaction_id", "offer", "publisher", "country", "created")
    search_fields = ("transaction_id",)
    raw_id_fields = ("offer", "publisher")
    show_full_result_count = False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows whose state changes only through the services (the actions below), never by
    editing, adding or deleting them here."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a conversion's deliveries and log links go with it: nothing is lost


class RejectForm(forms.Form):
    reason = forms.CharField(
        max_length=REJECTION_REASON_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )


@admin.register(Conversion)
class ConversionAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "transaction_id",
        "offer",
        "publisher",
        "event",
        "status",
        "revenue",
        "created",
    )
    list_filter = ("status",)
    search_fields = ("transaction_id", "order_id")
    raw_id_fields = ("click", "offer", "publisher", "event")
    show_full_result_count = False
    actions = ["refire_failed", "approve", "reject"]
    # The reconciliation report links its "no postback config" count here; Django 5.2.x
    # security releases refuse lookups through a reverse relation unless named.
    report_lookups = frozenset({"deliveries__isnull"})

    def lookup_allowed(self, lookup, value, request=None):
        return lookup in self.report_lookups or super().lookup_allowed(lookup, value, request)

    @admin.action(description="Re-fire postbacks that have not succeeded")
    def refire_failed(self, request, queryset):
        queued = services.refire_conversions(queryset, only_failed=True)
        self.message_user(request, f"Queued {queued} deliveries to fire again.", messages.SUCCESS)

    @admin.action(description="Approve (pending conversions)")
    def approve(self, request, queryset):
        done, refused = 0, []
        for conversion in queryset:
            try:
                services.approve_conversion(conversion)
                done += 1
            except services.TransitionError as problem:
                refused.append(f"#{conversion.pk}: {problem}")
        self._report(request, f"Approved {done} conversion(s).", refused)

    @admin.action(description="Reject, with a reason…")
    def reject(self, request, queryset):
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": "Reject conversions",
                "conversions": queryset,
                "form": form,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/offers/conversion/reject.html", context)
        done, refused = 0, []
        for conversion in queryset:
            try:
                services.reject_conversion(conversion, form.cleaned_data["reason"])
                done += 1
            except services.TransitionError as problem:
                refused.append(f"#{conversion.pk}: {problem}")
        self._report(request, f"Rejected {done} conversion(s).", refused)
        return None

    def _report(self, request, done: str, refused: list[str]) -> None:
        self.message_user(request, done, messages.SUCCESS)
        if refused:
            self.message_user(request, "Not changed: " + "; ".join(refused), messages.WARNING)
