"""Partner rules (SPEC §12): when a publisher still accepts a postback, what its answer
must show to count as a success, the headers it needs and what it calls our events.

Each rule is optional on a config; this module validates them when a config is saved and
applies them around an attempt. Nothing here sends a request.
"""

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from urllib.parse import unquote_plus

from django.core.exceptions import ValidationError

from postbacks.macros import render, validate_template
from postbacks.transport import Outcome

MASK = "****"
# A header whose name holds one of these is a credential: its value is sent, never shown.
CREDENTIAL_WORDS = ("authorization", "token", "key", "secret", "signature", "password", "cookie")
# Headers Integr8 sets itself (signing, the body's type) or the HTTP client owns.
RESERVED_HEADERS = frozenset(
    {
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "content-type",
        "content-length",
        "transfer-encoding",
        "host",
        "connection",
    }
)
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an RFC 9110 token
MAX_HEADERS, MAX_HEADER_VALUE = 20, 2000
SUCCESS_RULE_KINDS = {
    "contains": ("text",),
    "not_contains": ("text",),
    "json_equals": ("field", "value"),
}
MAX_RULE_TEXT = 500
MAX_ACCEPT_WINDOW_HOURS = 24 * 366
REJECTED = "Rejected by publisher: "
LATE = "Late: "


# Credentials.


def is_credential(header_name: str) -> bool:
    name = header_name.lower()
    return any(word in name for word in CREDENTIAL_WORDS)


def masked_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers as they may be shown, stored in the log or exported."""
    return {name: MASK if is_credential(name) else value for name, value in headers.items()}


def unmasked_headers(headers: Mapping[str, str], stored: Mapping[str, str]) -> dict[str, str]:
    """The headers a form or an API client sent back, with each credential still reading
    `****` given its stored value again (what was shown masked stays as it was)."""
    return {
        name: stored[name] if value == MASK and is_credential(name) and name in stored else value
        for name, value in (headers or {}).items()
    }


def masked_url(url: str, names: Iterable[str]) -> str:
    """The URL with the values of the named query parameters (any case) read `****`, as
    it may be stored and shown; the real URL is what is sent."""
    secret = {name.lower() for name in names}
    if not secret or "?" not in url:
        return url
    head, _, rest = url.partition("?")
    query, hash_mark, fragment = rest.partition("#")
    pairs = []
    for pair in query.split("&"):
        name, equals, _value = pair.partition("=")
        pairs.append(f"{name}={MASK}" if equals and unquote_plus(name).lower() in secret else pair)
    return f"{head}?{'&'.join(pairs)}{hash_mark}{fragment}"


def unmasked_url(url: str, stored: str, names: Iterable[str]) -> str:
    """The URL a form or an API client sent back, with each secret parameter still
    reading `****` given its stored value again (by name; the first stored one wins)."""
    secret = {name.lower() for name in names}
    if not secret or MASK not in url or "?" not in url:
        return url
    stored_values: dict[str, str] = {}
    for pair in stored.partition("?")[2].partition("#")[0].split("&"):
        name, equals, value = pair.partition("=")
        if equals:
            stored_values.setdefault(unquote_plus(name).lower(), value)
    head, _, rest = url.partition("?")
    query, hash_mark, fragment = rest.partition("#")
    pairs = []
    for pair in query.split("&"):
        name, equals, value = pair.partition("=")
        key = unquote_plus(name).lower()
        if equals and value == MASK and key in secret and key in stored_values:
            pair = f"{name}={stored_values[key]}"
        pairs.append(pair)
    return f"{head}?{'&'.join(pairs)}{hash_mark}{fragment}"


def validate_secret_parameters(names: object) -> None:
    if not isinstance(names, list) or not all(isinstance(name, str) and name for name in names):
        raise ValidationError('Use a list of query parameter names: ["token", "key"].')
    if len(names) > MAX_HEADERS:
        raise ValidationError(f"At most {MAX_HEADERS} names.")


# Validation, when a config is saved (model validators, so the admin and the API agree).


def validate_headers(headers: object) -> None:
    if not isinstance(headers, dict):
        raise ValidationError('Use an object of header names and values: {"X-Token": "…"}.')
    if len(headers) > MAX_HEADERS:
        raise ValidationError(f"At most {MAX_HEADERS} headers.")
    seen: set[str] = set()
    for name, value in headers.items():
        if not isinstance(name, str) or not HEADER_NAME.match(name) or len(name) > 100:
            raise ValidationError(f"{name!r} is not a header name (letters, digits and -).")
        if name.lower() in seen:
            raise ValidationError(f"Header {name!r} is given twice.")
        seen.add(name.lower())
        if name.lower() in RESERVED_HEADERS:
            raise ValidationError(f"Header {name!r} is set by Integr8 and cannot be overridden.")
        if not isinstance(value, str):
            raise ValidationError(f"The value of header {name!r} must be text.")
        if len(value) > MAX_HEADER_VALUE:
            raise ValidationError(
                f"The value of header {name!r} is over {MAX_HEADER_VALUE} characters."
            )
        if "\r" in value or "\n" in value:
            raise ValidationError(f"The value of header {name!r} holds a line break.")
        try:
            validate_template(value)
        except ValidationError as error:
            raise ValidationError(f"Header {name!r}: {error.messages[0]}") from None


def validate_success_rule(rule: object) -> None:
    if rule is None:
        return
    kinds = ", ".join(SUCCESS_RULE_KINDS)
    if not isinstance(rule, dict) or rule.get("kind") not in SUCCESS_RULE_KINDS:
        raise ValidationError(f'Use null or an object with "kind" one of {kinds}.')
    needed = SUCCESS_RULE_KINDS[rule["kind"]]
    extra = sorted(set(rule) - {"kind", *needed})
    if extra:
        raise ValidationError(
            f"A {rule['kind']} rule takes {', '.join(needed)}, not {', '.join(extra)}."
        )
    missing = [name for name in needed if name not in rule]
    if missing:
        raise ValidationError(f"A {rule['kind']} rule needs {', '.join(missing)}.")
    if rule["kind"] == "json_equals":
        field = rule["field"]
        if not isinstance(field, str) or not field.strip() or len(field) > MAX_RULE_TEXT:
            raise ValidationError('"field" must be a field name or a dotted path (data.status).')
        if any(not part for part in field.split(".")):
            raise ValidationError(f'"field" {field!r} has an empty part.')
        return
    text = rule["text"]
    if not isinstance(text, str) or not text or len(text) > MAX_RULE_TEXT:
        raise ValidationError(f'"text" must be 1 to {MAX_RULE_TEXT} characters.')


def validate_event_names(names: object) -> None:
    if not isinstance(names, dict):
        raise ValidationError(
            'Use an object of our event names and theirs: {"purchase": "af_purchase"}.'
        )
    for ours, theirs in names.items():
        if not isinstance(ours, str) or not ours or len(ours) > 100:
            raise ValidationError(f"{ours!r} is not an event name.")
        if not isinstance(theirs, str) or len(theirs) > 200:
            raise ValidationError(
                f"The publisher's name for {ours!r} must be text of up to 200 characters."
            )


def validate_accept_window_hours(hours: int | None) -> None:
    if hours is not None and not 1 <= hours <= MAX_ACCEPT_WINDOW_HOURS:
        raise ValidationError(f"Use 1 to {MAX_ACCEPT_WINDOW_HOURS} hours, or leave it empty.")


# Applying them to an attempt.


def rendered_headers(headers: Mapping[str, str], context: Mapping[str, object]) -> dict[str, str]:
    """The config's headers with their macros filled; a line break that a value brought
    in becomes a space (a value never starts another header)."""
    return {
        name: render(value, context, "raw").replace("\r", " ").replace("\n", " ")
        for name, value in headers.items()
    }


def event_name(names: Mapping[str, str], ours: str) -> str:
    """The publisher's name for our event (ours when the map does not name it)."""
    return names.get(ours, ours) if ours else ours


def late(reference: datetime, what: str, now: datetime, hours: int | None) -> str | None:
    """Why an attempt at `now` is too late for a publisher that accepts postbacks up to
    `hours` after the click (or conversion) at `reference`; None when it is in time."""
    if hours is None:
        return None
    age = (now - reference).total_seconds() / 3600
    if age <= hours:
        return None
    return f"{LATE}{_hours(age)} h after the {what}; the publisher accepts {hours} h"


def _hours(value: float) -> str:
    return f"{int(value)}" if value >= 10 else f"{value:.1f}".removesuffix(".0")


def judged(outcome: Outcome, rule: Mapping | None) -> Outcome:
    """The outcome once the config's success rule has read the answer: a 2xx whose body
    breaks the rule is a failure the publisher chose (not retried)."""
    if rule is None or not outcome.ok:
        return outcome
    broken = rule_broken(rule, outcome.server_response)
    if broken is None:
        return outcome
    return replace(outcome, error=REJECTED + broken, permanent=True, retry_after=None)


def rule_broken(rule: Mapping, body: str) -> str | None:
    """How `body` breaks `rule`, in words; None when it keeps it."""
    kind = rule["kind"]
    if kind == "contains":
        return None if rule["text"] in body else f"the answer does not contain {rule['text']!r}"
    if kind == "not_contains":
        return f"the answer contains {rule['text']!r}" if rule["text"] in body else None
    field, expected = rule["field"], rule["value"]
    try:
        value = json.loads(body)
    except ValueError:
        return f"the answer is not JSON, so {field} = {json.dumps(expected)} cannot hold"
    for part in field.split("."):
        if not isinstance(value, dict) or part not in value:
            return f"the answer has no field {field!r} (wanted {json.dumps(expected)})"
        value = value[part]
    if value != expected or isinstance(value, bool) != isinstance(expected, bool):
        return f"{field} is {json.dumps(value)}, not {json.dumps(expected)}"
    return None
