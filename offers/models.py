"""Advertisers, offers, publishers, and the traffic they exchange."""

import hashlib
import ipaddress
import secrets

from django.core.exceptions import ValidationError
from django.db import connections, models
from django.utils import timezone

from offers.click_insert import insert_click
from postbacks.macros import validate_template


def validate_cidr_list(value) -> None:
    if not isinstance(value, list):
        raise ValidationError('Give a list of CIDRs, e.g. ["203.0.113.0/24"].')
    for cidr in value:
        try:
            ipaddress.ip_network(str(cidr), strict=False)
        except ValueError:
            raise ValidationError(f"{cidr!r} is not an IP network (CIDR).") from None


class Status(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"


class Advertiser(models.Model):
    name = models.CharField(max_length=200)
    ip_allowlist = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_cidr_list],
        help_text="CIDRs allowed to call /conversion/; empty = any.",
    )
    default_offer = models.ForeignKey(
        "offers.Offer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Offer used by the custom postback API when no campaign_id is given.",
    )
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class ApiKeyQuerySet(models.QuerySet):
    def for_raw_key(self, raw_key: str) -> "ApiKey | None":
        return self.filter(key_hash=ApiKey.hash(raw_key), revoked=False).first()


class ApiKey(models.Model):
    """A key is shown once on creation; only its SHA-256 is stored."""

    advertiser = models.ForeignKey(
        Advertiser, null=True, blank=True, on_delete=models.CASCADE, related_name="api_keys"
    )
    is_staff = models.BooleanField(default=False, help_text="Staff keys manage everything.")
    name = models.CharField(max_length=200, blank=True)
    prefix = models.CharField(max_length=16, help_text="First characters, to tell keys apart.")
    key_hash = models.CharField(max_length=64, unique=True)
    revoked = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now)
    last_used = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    def __str__(self) -> str:
        owner = "staff" if self.is_staff else str(self.advertiser)
        return f"{self.prefix}… ({owner})"

    @staticmethod
    def hash(raw_key: str) -> str:
        # Keys are 256-bit random tokens, so a fast hash is enough (no dictionary to guess from).
        return hashlib.sha256(raw_key.encode()).hexdigest()

    @classmethod
    def issue(cls, advertiser: Advertiser | None = None, is_staff: bool = False, name: str = ""):
        """Create a key and return (ApiKey, raw_key); the raw key is never stored."""
        raw_key = "i8_" + secrets.token_urlsafe(32)
        api_key = cls.objects.create(
            advertiser=advertiser,
            is_staff=is_staff,
            name=name,
            prefix=raw_key[:10],
            key_hash=cls.hash(raw_key),
        )
        return api_key, raw_key


class Offer(models.Model):
    advertiser = models.ForeignKey(Advertiser, on_delete=models.PROTECT, related_name="offers")
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    destination_url = models.CharField(
        max_length=2000,
        validators=[validate_template],
        help_text="Macros allowed, e.g. {click_id}.",
    )
    revenue = models.DecimalField(max_digits=12, decimal_places=4, default=0)
    payout = models.DecimalField(max_digits=12, decimal_places=4, default=0)
    currency = models.CharField(max_length=3, default="USD")
    attribution_window_days = models.PositiveIntegerField(default=30)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.name} (#{self.pk})"


class OfferEvent(models.Model):
    """A post-install event of an offer; its ID is the Event ID."""

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="events")
    name = models.CharField(max_length=100)
    revenue = models.DecimalField(max_digits=12, decimal_places=4, default=0)
    payout = models.DecimalField(max_digits=12, decimal_places=4, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["offer", "name"], name="offer_event_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (#{self.pk})"


class Publisher(models.Model):
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    portal_can_edit = models.BooleanField(
        "portal users edit postback configs",
        default=False,
        help_text="Its portal users may change their postback configs' URL, method, body, "
        "headers and partner rules; otherwise they see them read-only.",
    )
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.name} (#{self.pk})"


def new_transaction_id() -> str:
    return secrets.token_urlsafe(18)  # 144 random bits, 24 URL-safe characters


class ClickQuerySet(models.QuerySet):
    def insert(self, click: "Click") -> None:
        """INSERT a click in one round trip, without fetching its id: the click path's
        write (offers/click_insert.py)."""
        insert_click(connections[self.db], click)


class Consent(models.TextChoices):
    """What the user said about tracking (SPEC §14); empty = not known."""

    GRANTED = "granted", "Granted"
    DENIED = "denied", "Denied"


def parse_consent(raw: str) -> str | None:
    """granted / denied (any case), "" for nothing sent; None for anything else."""
    value = raw.strip().lower()
    return value if value in ("", *Consent.values) else None


class Click(models.Model):
    transaction_id = models.CharField(max_length=64, unique=True, default=new_transaction_id)
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="clicks")
    publisher = models.ForeignKey(Publisher, on_delete=models.PROTECT, related_name="clicks")
    sub1 = models.CharField(max_length=255, blank=True)
    sub2 = models.CharField(max_length=255, blank=True)
    sub3 = models.CharField(max_length=255, blank=True)
    sub4 = models.CharField(max_length=255, blank=True)
    sub5 = models.CharField(max_length=255, blank=True)
    google_aid = models.CharField(max_length=100, blank=True)
    ios_ifa = models.CharField(max_length=100, blank=True)
    ios_ifv = models.CharField(max_length=100, blank=True)
    os_id = models.CharField(max_length=100, blank=True)
    windows_aid = models.CharField(max_length=100, blank=True)
    user_id = models.CharField(max_length=255, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=1000, blank=True)
    country = models.CharField(max_length=2, blank=True)
    consent = models.CharField(
        max_length=7, blank=True, choices=Consent.choices, help_text="Empty = not known."
    )
    created = models.DateTimeField(default=timezone.now)

    objects = ClickQuerySet.as_manager()

    def __str__(self) -> str:
        return self.transaction_id


REJECTION_REASON_MAX_LENGTH = 1000  # sent to publishers as {rejection_reason}


class ConversionStatus(models.TextChoices):
    APPROVED = "approved", "Approved"
    PENDING = "pending", "Pending"
    REJECTED = "rejected", "Rejected"


class ConversionQuerySet(models.QuerySet):
    def for_advertiser(self, advertiser: Advertiser) -> "ConversionQuerySet":
        return self.filter(offer__advertiser=advertiser)


class Conversion(models.Model):
    transaction_id = models.CharField(max_length=64, db_index=True)
    click = models.ForeignKey(
        Click, null=True, blank=True, on_delete=models.PROTECT, related_name="conversions"
    )
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="conversions")
    publisher = models.ForeignKey(
        Publisher,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="conversions",
        help_text="Empty for an install whose publisher_name matched no publisher.",
    )
    event = models.ForeignKey(
        OfferEvent,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="conversions",
        help_text="Empty for the base conversion.",
    )
    status = models.CharField(
        max_length=10, choices=ConversionStatus.choices, default=ConversionStatus.APPROVED
    )
    revenue = models.DecimalField(max_digits=12, decimal_places=4, default=0)
    payout = models.DecimalField(max_digits=12, decimal_places=4, default=0)
    currency = models.CharField(max_length=3, default="USD")
    order_id = models.CharField(max_length=255, blank=True)
    rejection_reason = models.TextField(blank=True)
    dedupe_key = models.CharField(
        max_length=400,
        unique=True,
        help_text="transaction_id|event|order_id, or install|advertiser|id: unique.",
    )
    install_id = models.CharField(max_length=255, blank=True, help_text="Custom postback `id`.")
    publisher_name = models.CharField(max_length=255, blank=True, help_text="As reported.")
    consent = models.CharField(
        max_length=7,
        blank=True,
        choices=Consent.choices,
        help_text="As reported with the conversion or install; empty = the click's.",
    )
    attributes = models.JSONField(
        default=dict, blank=True, help_text="Install details: sub-publisher, device, cost, times."
    )
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)

    objects = ConversionQuerySet.as_manager()

    class Meta:
        indexes = [
            # The API lists an advertiser's conversions newest first.
            models.Index(fields=["offer", "-created"], name="conversion_offer_created"),
            models.Index(fields=["-created"], name="conversion_created"),
        ]

    def __str__(self) -> str:
        return f"Conversion #{self.pk} ({self.transaction_id})"
