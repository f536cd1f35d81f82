from django.contrib import admin

from accounts.models import Membership


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Portal users: a (non-staff) login and the publisher or advertiser it belongs to.
    `manage.py create_portal_user` creates both at once, with a generated password."""

    list_display = ("user", "publisher", "advertiser")
    list_select_related = ("user", "publisher", "advertiser")
    search_fields = ("user__username", "publisher__name", "advertiser__name")
    raw_id_fields = ("user",)
