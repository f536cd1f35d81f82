from django.contrib import admin

from postbacks.models import Delivery, PostbackConfig


@admin.register(PostbackConfig)
class PostbackConfigAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "publisher", "offer", "postback_type", "method", "enabled")
    list_filter = ("postback_type", "enabled", "method")
    search_fields = ("name", "url")
    readonly_fields = ("consecutive_failures", "disabled_reason", "created", "updated")


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("id", "config", "postback_type", "state", "attempts", "next_attempt_at")
    list_filter = ("state", "postback_type")
    raw_id_fields = ("config", "click", "conversion")
    show_full_result_count = False
