"""Installs reported through the custom postback API: strict validation, then one conversion.

An install is a conversion without a click. It gets its own transaction ID, is priced by
the offer, and keeps every reported field in `Conversion.attributes` under the request's
field names, where `postbacks.context` finds them for the install macros.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pycountry
from django.db import IntegrityError, transaction
from django.utils import timezone

from integr8.times import to_utc
from offers.models import (
    Advertiser,
    Conversion,
    ConversionStatus,
    Offer,
    Publisher,
    new_transaction_id,
    parse_consent,
)
from offers.money import whole_limit
from offers.params import SURROGATE, BadRequest
from postbacks.context import iso
from postbacks.services import queue_conversion_postbacks

UUID_FIELDS = ("ios_ifa", "ios_ifv", "google_aid", "windows_aid")
IDENTIFIER_FIELDS = (*UUID_FIELDS, "os_id", "user_id")
TIME_FIELDS = ("install_timestamp", "click_timestamp")
# Free text, kept as sent (trimmed) in attributes under the same names.
TEXT_FIELDS = (
    "campaign_name",
    "s_publisher_name",
    "s_publisher",
    "s_campaign_name",
    "s_campaign",
    "s_site_name",
    "s_site",
    "s_adgroup_name",
    "s_adgroup",
    "s_ad_name",
    "s_ad",
    "s_keyword_name",
    "s_placement_name",
    "device_model",
    "device_brand",
    "os_id",
    "user_id",
)
FIELDS = frozenset(
    {*TIME_FIELDS, *TEXT_FIELDS, *UUID_FIELDS}
    | {"publisher_name", "campaign_id", "country_code", "event_name", "cost", "id", "consent"}
)
# Where the API key may travel; never reported as unknown fields.
AUTH_PARAMS = frozenset({"key", "api_key"})

MAX_LENGTH = 255
# `cost` is kept as text in `attributes`, to 10 places (media costs are often fractions of
# a cent), but it is money: it stays below the limit of the revenue and payout columns.
MAX_COST = whole_limit(Conversion._meta.get_field("revenue"))
FUTURE_TOLERANCE = timedelta(hours=1)  # clock skew between the tracker and us
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
MAX_OFFER_ID = 2**63 - 1
IDENTIFIER_RULE = "identifiers"  # the error key of the at-least-one-identifier rule

UUID_PATTERN = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
NIL_UUID = "00000000-0000-0000-0000-000000000000"
UNIX_SECONDS = re.compile(r"\d+(\.\d+)?", re.ASCII)
PLAIN_UTC = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", re.ASCII)
# Plain decimal notation, as JSON or a spreadsheet writes numbers; no "1_000", no "NaN".
DECIMAL = re.compile(r"[+-]?(\d{1,30}(\.\d{0,30})?|\.\d{1,30})([eE][+-]?\d{1,3})?", re.ASCII)
MAX_COST_DECIMALS = 10
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
TIME_FORMATS = (
    "use YYYY-MM-DD HH:MM:SS (UTC), ISO 8601 with an offset "
    "(e.g. 2026-01-01T00:05:00Z) or Unix seconds"
)


class Invalid(ValueError):
    """One field's problem, in words that include the value sent."""


@dataclass
class Install:
    """A validated install, ready to be stored."""

    offer: Offer
    publisher: Publisher | None
    publisher_name: str
    install_id: str
    install_time: datetime
    attributes: dict
    ignored_fields: list[str] = field(default_factory=list)
    consent: str = ""


@dataclass
class InstallResult:
    conversion: Conversion
    duplicate: bool
    postbacks_queued: int

    @property
    def publisher_matched(self) -> bool:
        return self.conversion.publisher_id is not None


def show(value: str, limit: int = 80) -> str:
    """The value as quoted in an error message, cut so an answer stays small."""
    if len(value) > limit:
        return repr(value[:limit]) + f"… ({len(value)} characters)"
    return repr(value)


def parse_text(raw: str) -> str:
    if len(raw) > MAX_LENGTH:
        raise Invalid(f"{show(raw)} is too long: at most {MAX_LENGTH} characters.")
    if CONTROL_CHARACTERS.search(raw):
        raise Invalid(f"{show(raw)} contains a control character (such as a NUL or newline).")
    if SURROGATE.search(raw):
        raise Invalid("Contains an unpaired surrogate (e.g. \\ud800): not valid text.")
    return raw


def parse_uuid(raw: str) -> str:
    if not UUID_PATTERN.fullmatch(raw):
        raise Invalid(
            f"{show(raw)} is not a UUID: expected 8-4-4-4-12 hexadecimal digits, "
            "e.g. 38400000-8cf0-11bd-b23e-10b96e40000d."
        )
    return raw


def parse_country(raw: str) -> str:
    code = raw.upper()
    if len(code) != 2 or not code.isascii() or pycountry.countries.get(alpha_2=code) is None:
        raise Invalid(f"{show(raw)} is not an ISO 3166-1 alpha-2 country code, e.g. US or DE.")
    return code


def parse_cost(raw: str) -> str:
    if not DECIMAL.fullmatch(raw):
        raise Invalid(f"{show(raw)} is not a number: send a decimal like 0.35 (USD).")
    cost = Decimal(raw).normalize() + 0  # + 0 turns -0 into 0
    if cost < 0:
        raise Invalid(f"{show(raw)} is not a cost: it must be a number ≥ 0 (USD).")
    if cost >= MAX_COST:
        raise Invalid(f"{show(raw)} is too large for a cost: less than {MAX_COST:f} USD.")
    exponent = cost.as_tuple().exponent
    assert isinstance(exponent, int)  # DECIMAL admits no NaN or infinity
    if exponent < -MAX_COST_DECIMALS:
        raise Invalid(f"{show(raw)} has more than {MAX_COST_DECIMALS} decimal places.")
    return format(cost, "f")


def parse_event_name(raw: str) -> str:
    if raw.lower() != "install":
        raise Invalid(f"{show(raw)} is not accepted: this endpoint records installs only.")
    return "install"


def parse_offer_id(raw: str) -> int:
    if not raw.isdigit() or not raw.isascii() or not 0 < int(raw) <= MAX_OFFER_ID:
        raise Invalid(f"{show(raw)} is not an offer ID (a positive whole number).")
    return int(raw)


def parse_time(raw: str) -> datetime:
    """Unix seconds, `YYYY-MM-DD HH:MM:SS` (UTC), or ISO 8601 with an offset."""
    if UNIX_SECONDS.fullmatch(raw):
        seconds = Decimal(raw)
        if seconds >= Decimal("1e11"):
            raise Invalid(f"{show(raw)} looks like milliseconds: send Unix seconds.")
        moment = datetime.fromtimestamp(float(seconds), UTC)
    else:
        moment = _iso_time(raw)
    if moment < EARLIEST:
        raise Invalid(f"{show(raw)} is before {EARLIEST:%Y-%m-%d}: not a plausible time.")
    return moment


def _iso_time(raw: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise Invalid(f"{show(raw)} is not a time: {TIME_FORMATS}.") from None
    if moment.tzinfo is not None:
        try:
            return to_utc(moment)
        except ValueError as exc:  # e.g. 9999-12-31T23:00:00-05:00, or a +20:00 offset
            raise Invalid(f"{show(raw)}: {exc}.") from None
    if not PLAIN_UTC.fullmatch(raw):
        raise Invalid(
            f"{show(raw)} has no UTC offset: add Z or ±HH:MM, "
            "or send YYYY-MM-DD HH:MM:SS, which is read as UTC."
        )
    return moment.replace(tzinfo=UTC)


def parse_consent_field(raw: str) -> str:
    """A sent `consent` field (conversions and installs): granted or denied, else Invalid."""
    consent = parse_consent(raw)
    if not consent:
        raise Invalid(f"{show(raw)} is not one of: granted, denied (or leave it out).")
    return consent


PARSERS = {
    **dict.fromkeys(TEXT_FIELDS + ("publisher_name", "id"), parse_text),
    **dict.fromkeys(UUID_FIELDS, parse_uuid),
    **dict.fromkeys(TIME_FIELDS, parse_time),
    "country_code": parse_country,
    "cost": parse_cost,
    "event_name": parse_event_name,
    "campaign_id": parse_offer_id,
    "consent": parse_consent_field,
}


class Problems(dict):
    """{field: [messages]}, collected so that one answer reports every problem."""

    def add(self, name: str, message: str) -> None:
        self.setdefault(name, []).append(message)


def json_type_problems(body: dict) -> dict[str, list[str]]:
    """Fields of a JSON body sent as objects, arrays or booleans rather than text or numbers."""
    kinds = {dict: "an object", list: "an array", bool: "a boolean"}
    return {
        name: [f"Expected a string or number, got {kinds[type(value)]}: {show(repr(value))}."]
        for name, value in body.items()
        if name in FIELDS and type(value) in kinds
    }


def parse_install(
    params: dict[str, str],
    advertiser: Advertiser,
    problems: dict[str, list[str]] | None = None,
    now: datetime | None = None,
) -> Install:
    """Validate every field; raise BadRequest listing all problems at once."""
    now = now or timezone.now()
    found = Problems(problems or {})
    values: dict[str, Any] = {}  # each field's parsed value: a str, an int or a datetime
    for name, parse in PARSERS.items():
        raw = (params.get(name) or "").strip()
        if raw and name not in found:
            try:
                values[name] = parse(raw)
            except Invalid as problem:
                found.add(name, str(problem))
    given = {name for name in FIELDS if (params.get(name) or "").strip()}
    _check_required(given, values, found)
    _check_times(params, values, now, found)
    offer = _offer_for(advertiser, values.get("campaign_id"), "campaign_id" in given, found)
    if found:
        raise BadRequest(dict(found))
    assert offer is not None  # _offer_for reports a problem whenever it finds no offer
    install_time = values.get("install_timestamp", now)
    click_time = values.get("click_timestamp", install_time)
    attributes = {
        name: values[name] for name in TEXT_FIELDS + UUID_FIELDS + ("event_name",) if name in values
    }
    attributes.update(
        {name: values[name] for name in ("country_code", "cost") if name in values},
        click_time=iso(click_time),
        install_time=iso(install_time),
    )
    return Install(
        offer=offer,
        publisher=match_publisher(values["publisher_name"]),
        publisher_name=values["publisher_name"],
        install_id=values.get("id", ""),
        install_time=install_time,
        attributes=attributes,
        ignored_fields=_ignored(params),
        consent=values.get("consent", ""),
    )


def _check_required(given: set[str], values: dict, found: Problems) -> None:
    if "publisher_name" not in given:
        found.add(
            "publisher_name",
            "This field is required: the name of the publisher (media source) of the install.",
        )
    # A malformed identifier has its own message; the rule only asks that one was sent.
    sent = [name for name in IDENTIFIER_FIELDS if name in given]
    if not sent or all(values.get(name) == NIL_UUID for name in sent):
        found.add(
            IDENTIFIER_RULE,
            "Give at least one device or user identifier: "
            + ", ".join(IDENTIFIER_FIELDS)
            + " (an all-zero UUID identifies no device).",
        )


def _as_sent(params: dict[str, str], name: str, moment: datetime) -> str:
    """The time as the tracker sent it, and in UTC when that reads differently."""
    raw = params[name].strip()
    return show(raw) if raw == iso(moment) else f"{show(raw)} ({iso(moment)})"


def _check_times(params: dict[str, str], values: dict, now: datetime, found: Problems) -> None:
    hours = FUTURE_TOLERANCE // timedelta(hours=1)
    for name in TIME_FIELDS:
        moment = values.get(name)
        if moment is not None and moment > now + FUTURE_TOLERANCE:
            found.add(
                name,
                f"{_as_sent(params, name, moment)} is in the future (now is {iso(now)}); "
                f"at most {hours} hour ahead is accepted.",
            )
    click_time = values.get("click_timestamp")
    if click_time is None or "click_timestamp" in found or "install_timestamp" in found:
        return
    install_time = values.get("install_timestamp")
    if install_time is None:
        install_time, described = now, f"now ({iso(now)}; install_timestamp was not sent)"
    else:
        described = "install_timestamp " + _as_sent(params, "install_timestamp", install_time)
    if click_time > install_time:
        found.add(
            "click_timestamp",
            f"{_as_sent(params, 'click_timestamp', click_time)} is after {described}: "
            "the click must come before the install.",
        )


def _offer_for(
    advertiser: Advertiser, offer_id: int | None, sent: bool, found: Problems
) -> Offer | None:
    if sent:
        if offer_id is None:
            return None  # malformed; already reported
        offer = Offer.objects.filter(pk=offer_id, advertiser=advertiser).first()
        if offer is None:
            found.add("campaign_id", f"{advertiser.name} has no offer with ID {offer_id}.")
        return offer
    if advertiser.default_offer_id is None:
        found.add(
            "campaign_id",
            f"{advertiser.name} has no default offer, so campaign_id (one of its offer IDs) "
            "is required. Ops can set a default offer on the advertiser.",
        )
        return None
    # The setting is not scoped by the database, so an install never lands on another
    # advertiser's offer through a misconfigured default.
    offer = Offer.objects.filter(pk=advertiser.default_offer_id, advertiser=advertiser).first()
    if offer is None:
        found.add(
            "campaign_id",
            f"{advertiser.name}'s default offer (#{advertiser.default_offer_id}) belongs to "
            "another advertiser; give campaign_id, and ask ops to fix the default offer.",
        )
    return offer


def match_publisher(name: str) -> Publisher | None:
    """Case-insensitive; when several publishers share the name, the oldest (lowest ID)."""
    return Publisher.objects.filter(name__iexact=name).order_by("pk").first()


def _ignored(params: dict[str, str]) -> list[str]:
    unknown = sorted(set(params) - FIELDS - AUTH_PARAMS)
    return [name[:MAX_LENGTH] for name in unknown[:50]]


def dedupe_key(advertiser_id: int, install_id: str) -> str:
    return f"install|{advertiser_id}|{install_id}"


def record_install(advertiser: Advertiser, install: Install) -> InstallResult:
    """Store the install once per (advertiser, id), with its deliveries, in one transaction.

    A repeated `id` stores nothing and fires nothing: a tracker retrying a call must not
    double-count. Re-firing is the conversions API's job.
    """
    transaction_id = new_transaction_id()
    if install.install_id:
        key = dedupe_key(advertiser.pk, install.install_id)
        existing = Conversion.objects.filter(dedupe_key=key).first()
        if existing is not None:
            return InstallResult(existing, duplicate=True, postbacks_queued=0)
    else:
        # No install ID: nothing to dedupe on; the key only has to be unique.
        key = f"install|{advertiser.pk}|~{transaction_id}"
    conversion = Conversion(
        transaction_id=transaction_id,
        offer=install.offer,
        publisher=install.publisher,
        status=ConversionStatus.APPROVED,
        revenue=install.offer.revenue,
        payout=install.offer.payout,
        currency=install.offer.currency,
        dedupe_key=key,
        install_id=install.install_id,
        publisher_name=install.publisher_name,
        attributes=install.attributes,
        consent=install.consent,
        created=install.install_time,
    )
    try:
        with transaction.atomic():
            conversion.save()
            deliveries = queue_conversion_postbacks(conversion)
    except IntegrityError:
        # Two calls with the same id raced: the other one stored it.
        existing = Conversion.objects.filter(dedupe_key=key).first()
        if existing is None:
            raise
        return InstallResult(existing, duplicate=True, postbacks_queued=0)
    return InstallResult(conversion, duplicate=False, postbacks_queued=len(deliveries))
