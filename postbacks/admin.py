import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html, format_html_join

from offers.models import Offer, OfferEvent, Publisher
from postbacks import rules
from postbacks.attempts import Unsendable, build_request
from postbacks.context import sample_context
from postbacks.macros import macro_types, macros_for
from postbacks.models import (
    ContentType,
    Delivery,
    Method,
    PostbackConfig,
    PostbackType,
    new_webhook_id,
)
from postbacks.preview import preview
from postbacks.services import enable_config, refire_delivery, rotate_secret, send_test

# The fields that shape the request: one fieldset on the form, with the macro list and
# the live preview under it.
REQUEST_FIELDS = ("url", "method", "content_type", "body")
# What the publisher accepts and needs (SPEC §12): a fieldset of their own.
RULE_FIELDS = (
    "accept_window_hours",
    "success_rule",
    "headers",
    "event_names",
    "secret_parameters",
    "on_denied_consent",
)
JSON_ATTRS = {"class": "template-field", "spellcheck": "false", "autocomplete": "off", "rows": 3}
TEMPLATE_ATTRS = {"class": "template-field", "spellcheck": "false", "autocomplete": "off"}
TEMPLATE_LABELS = {"url": "URL template", "body": "Body template"}
TEMPLATE_WIDGETS = {
    "url": forms.Textarea(attrs={**TEMPLATE_ATTRS, "rows": 2, "data-template": "url"}),
    "body": forms.Textarea(attrs={**TEMPLATE_ATTRS, "rows": 5, "data-template": "body"}),
    **{name: forms.Textarea(attrs=JSON_ATTRS) for name in RULE_FIELDS[1:5]},
}


class PreviewForm(forms.Form):
    """The config form's unsaved fields that shape the request. The template validators
    are left out on purpose: what saving would refuse is reported as a problem, not a 400.
    """

    url = forms.CharField(max_length=PostbackConfig._meta.get_field("url").max_length)
    method = forms.ChoiceField(choices=Method.choices)
    content_type = forms.ChoiceField(choices=ContentType.choices, required=False)
    body = forms.CharField(required=False)
    postback_type = forms.ChoiceField(choices=PostbackType.choices)
    publisher = forms.ModelChoiceField(Publisher.objects.all(), required=False)
    offer = forms.ModelChoiceField(Offer.objects.all(), required=False)
    event = forms.ModelChoiceField(OfferEvent.objects.all(), required=False)

    def unsaved_config(self) -> PostbackConfig:
        """A config in memory only, without a secret: never saved, never signed."""
        data = self.cleaned_data
        config = PostbackConfig(
            name="Preview",
            url=data["url"],
            method=data["method"],
            content_type=data["content_type"] or ContentType.FORM,
            body=data["body"],
            postback_type=data["postback_type"],
            offer=data["offer"],
            event=data["event"],
        )
        # No publisher chosen yet on the add form: {publisher_id} stays empty.
        if data["publisher"] is not None:
            config.publisher = data["publisher"]
        return config


class MaskedHeadersForm(forms.ModelForm):
    """Shows credential-like header values as ****; saving **** keeps the stored value
    (PostbackConfig.save)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "headers" in self.fields and self.instance.pk:
            self.initial["headers"] = rules.masked_headers(self.instance.headers or {})


def _changes(changes: dict[str, list]) -> str:
    """One line per field: name: before → after."""

    def shown(value: object) -> str:
        return json.dumps(value, ensure_ascii=False)

    return format_html_join(
        "",
        "<div><code>{}</code>: {} → {}</div>",
        ((name, shown(before), shown(after)) for name, (before, after) in changes.items()),
    )


def _field_errors(form: forms.Form) -> dict[str, list[str]]:
    return {field: [str(message) for message in errors] for field, errors in form.errors.items()}


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
        "version",
        "history",
    )
    actions = ["rotate_signing_secret", "enable_configs", "send_test_action"]

    @admin.display(description="History")
    def history(self, obj: PostbackConfig) -> str:
        """What changed in what is sent, version by version (credentials masked)."""
        versions = list(obj.versions.all()[:20]) if obj.pk else []
        if not versions:
            return "No change since it was created (version 1)."
        rows = format_html_join(
            "",
            "<tr><td>v{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    version.version,
                    f"{version.created:%Y-%m-%d %H:%M} UTC",
                    _changes(version.changes),
                )
                for version in versions
            ),
        )
        return format_html(
            '<table class="config-history"><thead><tr><th>Version</th><th>When</th>'
            "<th>What changed</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

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

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["widgets"] = {**TEMPLATE_WIDGETS, **kwargs.get("widgets", {})}
        kwargs["labels"] = {**TEMPLATE_LABELS, **kwargs.get("labels", {})}
        form = super().get_form(request, obj, change, **kwargs)
        return type("PostbackConfigForm", (MaskedHeadersForm, form), {})

    def get_fieldsets(self, request, obj=None):
        """The default single fieldset, with the request fields in one of their own after
        what comes before the URL template (name, publisher, offer, type, event)."""
        fields = list(self.get_fields(request, obj))
        start = fields.index("url") if "url" in fields else len(fields)
        head = [name for name in fields[:start] if name not in REQUEST_FIELDS]
        request_fields = [name for name in REQUEST_FIELDS if name in fields]
        rule_fields = [name for name in RULE_FIELDS if name in fields]
        history = [name for name in ("version", "history") if name in fields]
        grouped = {*REQUEST_FIELDS, *RULE_FIELDS, *history}
        rest = [name for name in fields[start:] if name not in grouped]
        fieldsets: list[tuple[str | None, dict[str, Any]]] = [
            (None, {"fields": head}),
            ("Request", {"fields": request_fields, "classes": ["postback-request"]}),
            ("Partner rules", {"fields": rule_fields, "classes": ["partner-rules"]}),
            ("Delivery and signing", {"fields": rest}),
            ("History", {"fields": history}),
        ]
        return [(name, options) for name, options in fieldsets if options["fields"]]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        """The macro list and live preview, with their script and stylesheet (this form only)."""
        can_preview = self._can_preview(request, obj)
        context.update(
            can_preview=can_preview,
            macro_guide=[
                ("{" + name + "}", meaning, " ".join(macro_types(name)))
                for name, meaning in macros_for()
            ],
            preview_url=reverse("admin:postbacks_postbackconfig_preview"),
        )
        if can_preview:
            context["media"] = context["media"] + forms.Media(
                css={"all": ["css/config-form.css"]}, js=["js/config-form.js"]
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _can_preview(self, request: HttpRequest, obj=None) -> bool:
        if obj is None:
            return self.has_add_permission(request) or self.has_change_permission(request)
        return self.has_change_permission(request, obj)

    def get_urls(self):
        urls = [
            path(
                "<int:config_id>/send-test/",
                self.admin_site.admin_view(self.send_test_view),
                name="postbacks_postbackconfig_send_test",
            ),
            path(
                "preview/",
                self.admin_site.admin_view(self.preview_view),
                name="postbacks_postbackconfig_preview",
            ),
        ]
        return urls + super().get_urls()

    def preview_view(self, request: HttpRequest) -> JsonResponse:
        """POST the unsaved form fields: JSON with the url, method and body the config
        would send with sample values, and its problems in words. Saves and sends nothing."""
        if request.method != "POST":
            return JsonResponse({"errors": {"method": ["POST the form fields."]}}, status=405)
        if not self._can_preview(request):
            return JsonResponse({"errors": {"permission": ["Cannot change configs."]}}, status=403)
        form = PreviewForm(request.POST)
        if not form.is_valid():
            return JsonResponse({"errors": _field_errors(form)}, status=400)
        return JsonResponse(preview(form.unsaved_config()))

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
            # Credential-like values are sent, never shown (postbacks.rules).
            "preview_headers": rules.masked_headers(preview.headers) if preview else {},
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

    def lookup_allowed(self, lookup, value, request=None) -> bool:
        # The reconciliation report links here by the conversion's publisher and time.
        if lookup.startswith(("conversion__publisher__", "conversion__created__")):
            return True
        return super().lookup_allowed(lookup, value, request)

    @admin.action(description="Re-fire (a new round of attempts, same webhook-id)")
    def refire(self, request, queryset):
        deliveries = list(queryset.select_related("config"))
        reopened = sum(refire_delivery(delivery) for delivery in deliveries)
        skipped = len(deliveries) - reopened
        message = f"Re-fire queued for {reopened} deliveries."
        if skipped:
            message += f" {skipped} skipped: their config is disabled."
        self.message_user(request, message, messages.SUCCESS if reopened else messages.WARNING)
