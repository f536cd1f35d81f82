from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse

from postbacks.attempts import Unsendable, build_request
from postbacks.context import sample_context
from postbacks.models import Delivery, PostbackConfig, new_webhook_id
from postbacks.services import enable_config, refire_delivery, rotate_secret, send_test


@admin.register(PostbackConfig)
class PostbackConfigAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "name",
        "publisher",
        "offer",
        "postback_type",
        "method",
        "enabled",
        "consecutive_failures",
        "disabled_reason",
    )
    list_filter = ("postback_type", "enabled", "method")
    search_fields = ("name", "url")
    readonly_fields = (
        "previous_secret",
        "previous_secret_expires",
        "consecutive_failures",
        "disabled_reason",
        "created",
        "updated",
    )
    actions = ["rotate_signing_secret", "enable_configs", "send_test_action"]

    def save_model(self, request, obj, form, change):
        reenabled = change and "enabled" in form.changed_data and obj.enabled
        if reenabled:
            obj.enabled = False  # the service does the enabling, with what goes with it
        super().save_model(request, obj, form, change)
        if reenabled:
            enable_config(obj)

    @admin.action(description="Rotate signing secret")
    def rotate_signing_secret(self, request, queryset):
        for config in queryset:
            rotate_secret(config)
        self.message_user(
            request,
            f"New signing secret for {queryset.count()} config(s); the previous one keeps "
            "signing during the grace period.",
            messages.SUCCESS,
        )

    @admin.action(description="Enable (resets the failure count)")
    def enable_configs(self, request, queryset):
        configs = list(queryset)
        for config in configs:
            enable_config(config)
        self.message_user(request, f"Enabled {len(configs)} config(s).", messages.SUCCESS)

    @admin.action(description="Send test")
    def send_test_action(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one config to test.", messages.WARNING)
            return None
        return redirect("admin:postbacks_postbackconfig_send_test", queryset.get().pk)

    def get_urls(self):
        urls = [
            path(
                "<int:config_id>/send-test/",
                self.admin_site.admin_view(self.send_test_view),
                name="postbacks_postbackconfig_send_test",
            )
        ]
        return urls + super().get_urls()

    def send_test_view(self, request, config_id: int):
        """GET: what will be sent, with sample values. POST: send it and show the result."""
        config = get_object_or_404(PostbackConfig, pk=config_id)
        if not self.has_change_permission(request, config):
            raise PermissionDenied
        log = None
        if request.method == "POST":
            log = send_test(config)
        try:
            preview, refusal = build_request(config, sample_context(config), new_webhook_id()), ""
        except Unsendable as problem:
            preview, refusal = None, str(problem)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": config,
            "title": f"Send test: {config.name}",
            "preview": preview,
            "refusal": refusal,
            "log": log,
            "log_url": _log_url(log),
            "change_url": reverse("admin:postbacks_postbackconfig_change", args=[config.pk]),
        }
        return TemplateResponse(request, "admin/postbacks/postbackconfig/send_test.html", context)


def _log_url(log) -> str:
    if log is None:
        return ""
    try:
        return reverse("logs:detail", args=[log.pk])
    except NoReverseMatch:  # the page works without the link
        return ""


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """Read-only: a delivery's state changes only through the services (Re-fire here)."""

    list_display = (
        "id",
        "config",
        "postback_type",
        "state",
        "attempts",
        "max_attempts",
        "next_attempt_at",
        "last_response_code",
        "last_error",
    )
    list_filter = ("state", "postback_type")
    raw_id_fields = ("config", "click", "conversion")
    search_fields = ("webhook_id",)
    show_full_result_count = False
    actions = ["refire"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Re-fire (a new round of attempts, same webhook-id)")
    def refire(self, request, queryset):
        deliveries = list(queryset.select_related("config"))
        reopened = sum(refire_delivery(delivery) for delivery in deliveries)
        skipped = len(deliveries) - reopened
        message = f"Re-fire queued for {reopened} deliveries."
        if skipped:
            message += f" {skipped} skipped: their config is disabled."
        self.message_user(request, message, messages.SUCCESS if reopened else messages.WARNING)
