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
