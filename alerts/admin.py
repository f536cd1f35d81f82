from django.contrib import admin

from alerts.models import Alert, AlertRule


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "enabled", "scope", "describe", "channels")
    list_filter = ("enabled", "condition")
    raw_id_fields = ("publisher", "config")
    search_fields = ("name",)

    @admin.display(description="Scope")
    def scope(self, rule: AlertRule) -> str:
        return rule.scope()

    @admin.display(description="Condition")
    def describe(self, rule: AlertRule) -> str:
        return rule.describe()

    @admin.display(description="Channels")
    def channels(self, rule: AlertRule) -> str:
        emails = ", ".join(rule.emails) or "OPS_EMAIL"
        return f"email ({emails})" + (" + webhook" if rule.webhook_url else "")


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    """Read-only: alerts open and resolve through alerts.services only."""

    list_display = ("id", "state", "kind", "summary", "opened", "resolved", "count")
    list_filter = ("state", "kind")
    search_fields = ("summary",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
