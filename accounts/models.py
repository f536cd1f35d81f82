"""Portal users (SPEC §14): a login that belongs to one publisher or one advertiser."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Membership(models.Model):
    """Ties a (non-staff) user to the publisher or the advertiser whose portal it sees."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    publisher = models.ForeignKey(
        "offers.Publisher",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="portal_members",
    )
    advertiser = models.ForeignKey(
        "offers.Advertiser",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="portal_members",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(publisher__isnull=True, advertiser__isnull=False)
                | Q(publisher__isnull=False, advertiser__isnull=True),
                name="membership_one_owner",
                violation_error_message="A portal user belongs to a publisher or to an "
                "advertiser: choose exactly one.",
            )
        ]

    def __str__(self) -> str:
        owner = self.publisher or self.advertiser
        kind = "publisher" if self.publisher_id else "advertiser"
        return f"{self.user} ({kind} {owner})"
