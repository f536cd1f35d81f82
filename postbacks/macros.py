"""Macro rendering for postback URLs, bodies and offer destination URLs.

`{name}` is replaced by the value from a context dict; the encoding depends on where the
template is used: percent-encoding in URLs, JSON escaping in JSON bodies, form encoding
in form bodies. A missing value renders empty; an unknown macro is refused on save.
"""

import json
import re
from collections.abc import Callable, Mapping
from urllib.parse import quote, quote_plus

from django.core.exceptions import ValidationError

SUB_FIELDS = ("sub1", "sub2", "sub3", "sub4", "sub5")
DEVICE_ID_FIELDS = ("google_aid", "ios_ifa", "ios_ifv", "os_id", "windows_aid", "user_id")
# Installs reported through the custom postback API.
INSTALL_MACROS = (
    "s_publisher",
    "s_campaign",
    "s_site",
    "s_adgroup",
    "s_ad",
    "cost",
    "device_model",
    "device_brand",
)
ALIASES = {"click_id": "transaction_id", "campaign_id": "offer_id"}
MACROS = frozenset(
    {
        "transaction_id",
        "offer_id",
        "offer_name",
        "advertiser_id",
        "publisher_id",
        "event_id",
        "event_name",
        "conversion_id",
        "status",
        "revenue",
        "payout",
        "currency",
        "device_id",
        "country",
        "ip",
        "click_time",
        "conversion_time",
        "timestamp",
        "rejection_reason",
        *SUB_FIELDS,
        *DEVICE_ID_FIELDS,
        *INSTALL_MACROS,
        *ALIASES,
    }
)
MACRO_PATTERN = re.compile(r"\{([A-Za-z0-9_]+)\}")


def find_unknown_macros(template: str) -> list[str]:
    return sorted({name for name in MACRO_PATTERN.findall(template or "") if name not in MACROS})


def validate_template(template: str) -> None:
    unknown = find_unknown_macros(template)
    if unknown:
        names = ", ".join("{" + name + "}" for name in unknown)
        raise ValidationError(
            f"Unknown macro {names}. Known macros: "
            + ", ".join("{" + name + "}" for name in sorted(MACROS))
        )


def _lookup(context: Mapping[str, object], name: str) -> str:
    value = context.get(ALIASES.get(name, name))
    return "" if value is None else str(value)


def _url_encode(value: str) -> str:
    return quote(value, safe="")


def _json_encode(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)[1:-1]  # the string's inside, quotes stripped


ENCODERS: dict[str, Callable[[str], str]] = {
    "url": _url_encode,
    "json": _json_encode,
    "form": quote_plus,
    "raw": str,
}


def render(template: str, context: Mapping[str, object], encoding: str = "url") -> str:
    """Fill every `{macro}` in template; `encoding` is one of url, json, form, raw."""
    encode = ENCODERS[encoding]

    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name not in MACROS:
            return match.group(0)
        return encode(_lookup(context, name))

    return MACRO_PATTERN.sub(replace, template or "")


# What each macro means, for the config form's list. Each one names the postback types
# whose context gives it a value (postbacks.context); in the others it renders empty.
ALL_TYPES = ("click", "conversion", "event", "rejection")
CONVERSION_TYPES = ("conversion", "event", "rejection")
_MEANINGS: dict[str, tuple[str, tuple[str, ...]]] = {
    "transaction_id": ("Our transaction ID of the click", ALL_TYPES),
    "click_id": ("Same as {transaction_id}", ALL_TYPES),
    "offer_id": ("Offer ID", ALL_TYPES),
    "campaign_id": ("Same as {offer_id}", ALL_TYPES),
    "offer_name": ("Offer name", ALL_TYPES),
    "advertiser_id": ("Advertiser ID of the offer", ALL_TYPES),
    "publisher_id": ("Publisher ID", ALL_TYPES),
    "event_id": ("Event ID; empty for the base conversion", ("event", "rejection")),
    "event_name": ("Event name, e.g. purchase", ("event", "rejection")),
    "conversion_id": ("Our conversion ID", CONVERSION_TYPES),
    "status": ("Conversion status: approved, pending or rejected", CONVERSION_TYPES),
    "revenue": ("Revenue (the offer's default for a click)", ALL_TYPES),
    "payout": ("Payout (the offer's default for a click)", ALL_TYPES),
    "currency": ("Currency, ISO 4217", ALL_TYPES),
    **{name: (f"Sub ID {name[3:]} from the click link", ALL_TYPES) for name in SUB_FIELDS},
    "google_aid": ("Google advertising ID", ALL_TYPES),
    "ios_ifa": ("iOS advertising ID (IDFA)", ALL_TYPES),
    "ios_ifv": ("iOS vendor ID (IDFV)", ALL_TYPES),
    "os_id": ("Device OS ID", ALL_TYPES),
    "windows_aid": ("Windows advertising ID", ALL_TYPES),
    "user_id": ("User ID", ALL_TYPES),
    "device_id": ("First device identifier present, in the order above", ALL_TYPES),
    "country": ("Country, ISO 3166-1 alpha-2", ALL_TYPES),
    "ip": ("IP address of the click", ALL_TYPES),
    "click_time": ("Click time, ISO 8601 UTC", ALL_TYPES),
    "conversion_time": ("Conversion time, ISO 8601 UTC", CONVERSION_TYPES),
    "timestamp": ("Unix seconds of the attempt", ALL_TYPES),
    "rejection_reason": ("Why the conversion was rejected", ("rejection",)),
    # Installs reported by a tracker through the custom postback API (no click).
    "s_publisher": ("Tracker's sub-publisher of an install", CONVERSION_TYPES),
    "s_campaign": ("Tracker's sub-campaign of an install", CONVERSION_TYPES),
    "s_site": ("Tracker's site of an install", CONVERSION_TYPES),
    "s_adgroup": ("Tracker's ad group of an install", CONVERSION_TYPES),
    "s_ad": ("Tracker's ad of an install", CONVERSION_TYPES),
    "cost": ("Cost of an install in USD, from the tracker", CONVERSION_TYPES),
    "device_model": ("Device model of an install", CONVERSION_TYPES),
    "device_brand": ("Device brand of an install", CONVERSION_TYPES),
}


def macro_meaning(name: str) -> str:
    """One line on what `name` fills in; empty for a macro not described here."""
    return _MEANINGS.get(name, ("", ALL_TYPES))[0]


def macro_types(name: str) -> tuple[str, ...]:
    """The postback types in which `name` has a value (all, for a macro not described)."""
    return _MEANINGS.get(name, ("", ALL_TYPES))[1]


def macros_for(postback_type: str | None = None) -> list[tuple[str, str]]:
    """(macro, meaning) for every macro with a value in postbacks of this type, in the
    order the config form lists them; every macro when postback_type is None.

    A name added to MACROS without a meaning here is still listed, last; a macro of
    another type is not refused, it renders empty.
    """
    listed = [name for name in _MEANINGS if name in MACROS]
    listed += sorted(MACROS - set(listed))
    return [
        (name, macro_meaning(name))
        for name in listed
        if postback_type is None or postback_type in macro_types(name)
    ]
