from django.contrib import admin

from offers.models import Advertiser, ApiKey, Click, Conversion, Offer, OfferEvent, Publisher


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
    list_display = ("id", "name", "status", "created")
    list_filter = ("status",)
    search_fields = ("name",)


@admin.register(Click)
class ClickAdmin(admin.ModelAdmin):
    list_display = ("transaction_id", "offer", "publisher", "country", "created")
    search_fields = ("transaction_id",)
    raw_id_fields = ("offer", "publisher")
    show_full_result_count = False


@admin.register(Conversion)
class ConversionAdmin(admin.ModelAdmin):
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
