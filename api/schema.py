"""OpenAPI additions (drf-spectacular): the API-key scheme, the custom postback endpoint, the
range of the `{id}` in paths, and the one error shape of every 4xx.

`/api/v1/custom-postback/` is a plain Django view (`offers/custom_postback.py`), so
drf-spectacular does not see it; `add_custom_postback` describes it after generation.
Field limits come from `offers/installs.py`; the words follow docs/custom-postback.md.
"""

import copy
from datetime import timedelta

from django.urls import reverse
from drf_spectacular.extensions import OpenApiAuthenticationExtension

from offers import installs


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "An advertiser's or a staff API key: `Authorization: Bearer <key>`. Create one "
                "with `python manage.py create_api_key --advertiser <id>` or `--staff`."
            ),
        }


TAG = "custom postback"
REQUEST_COMPONENT = "CustomPostbackInstall"
RESULT_COMPONENT = "CustomPostbackResult"
ERROR_REF = {"$ref": "#/components/schemas/Error"}

TEXT = {"type": "string", "maxLength": installs.MAX_LENGTH}
UUID = {
    "type": "string",
    "format": "uuid",
    "pattern": f"^{installs.UUID_PATTERN.pattern}$",
    "example": "38400000-8cf0-11bd-b23e-10b96e40000d",
}
TIME_TEXT = [
    {"type": "string", "format": "date-time", "description": "ISO 8601 with an offset"},
    {
        "type": "string",
        "pattern": r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$",
        "description": "YYYY-MM-DD HH:MM:SS, read as UTC",
    },
    {"type": "string", "pattern": r"^\d+(\.\d+)?$", "description": "Unix seconds"},
]
UNIX_SECONDS = {"type": "number", "minimum": 0, "description": "Unix seconds"}
TIMES_IN_WORDS = (
    "`YYYY-MM-DD HH:MM:SS` (UTC), ISO 8601 **with an offset** (`2026-01-01T00:05:00Z`) or "
    "Unix seconds (`1767225900`). Not before 2000-01-01, at most "
    f"{installs.FUTURE_TOLERANCE // timedelta(hours=1)} hour in the future."
)
# OpenAPI 3.0: exclusiveMaximum is a flag on maximum.
COST = {
    "type": "number",
    "minimum": 0,
    "maximum": float(installs.MAX_COST),
    "exclusiveMaximum": True,
}
OFFER_ID = {"type": "integer", "minimum": 1, "maximum": installs.MAX_OFFER_ID}
# Every row ID has the offer ID's range (BigAutoField's, from 1).
PATH_ID = OFFER_ID
TIME_FIELD_WORDS = {
    "install_timestamp": "When the install happened; default: now.",
    "click_timestamp": "When the click happened; default: the install time; not after it.",
}
SUB_FIELD_WORDS = "Sub-publisher, sub-campaign, site, ad group, ad, keyword or placement"


def _fields() -> dict[str, tuple[dict, str]]:
    """Every field: (its schema as text, description), in the order of the docs table."""
    return {
        "id": (TEXT, "Unique install ID within the advertiser; a repeat is a duplicate."),
        "publisher_name": (
            {**TEXT, "minLength": 1},
            "**Required.** The publisher (media source), matched case-insensitively.",
        ),
        **{
            name: ({"anyOf": TIME_TEXT}, f"{words} {TIMES_IN_WORDS}")
            for name, words in TIME_FIELD_WORDS.items()
        },
        "campaign_id": (
            OFFER_ID,
            "One of this advertiser's offer IDs; default: the advertiser's default offer.",
        ),
        "campaign_name": (TEXT, "Kept as reported."),
        "consent": (
            {"type": "string", "enum": ["granted", "denied"]},
            "The user's consent, any case; absent = not known. With `denied`, each postback "
            "config's `on_denied_consent` decides: send, strip identifiers, or skip.",
        ),
        "country_code": (
            {"type": "string", "pattern": "^[A-Za-z]{2}$", "example": "US"},
            "ISO 3166-1 alpha-2 country code, any case, stored upper-case (`UK` is `GB`).",
        ),
        **{
            name: (UUID, "RFC 4122 UUID, 8-4-4-4-12 hex digits, any case, kept as sent.")
            for name in installs.UUID_FIELDS
        },
        "os_id": (TEXT, "A device identifier of the operating system, as reported."),
        "user_id": (TEXT, "A user identifier, as reported."),
        **{
            name: (TEXT, f"{SUB_FIELD_WORDS}, as reported.")
            for name in installs.TEXT_FIELDS
            if name.startswith("s_")
        },
        "device_model": (TEXT, "Kept as reported."),
        "device_brand": (TEXT, "Kept as reported."),
        "event_name": (
            {"type": "string", "enum": ["install"]},
            "`install` (any case); anything else is refused.",
        ),
        "cost": (COST, "Media cost in USD, a decimal ≥ 0 (`0.35`); does not change payout."),
    }


def _body_schema(schema: dict) -> dict:
    """JSON numbers are read as their text, so numeric fields may be sent either way."""
    if schema is COST or schema is OFFER_ID:
        return {"anyOf": [schema, {"type": "string"}]}
    if "anyOf" in schema:
        return {"anyOf": [*schema["anyOf"], UNIX_SECONDS]}
    return schema


KEY_WORDS = (
    "The advertiser's API key, for trackers that can only template a URL; "
    "the `Authorization: Bearer <key>` header is preferred and wins when both are sent."
)
IDENTIFIER_WORDS = (
    "At least one identifier is required: "
    + ", ".join(f"`{name}`" for name in installs.IDENTIFIER_FIELDS)
    + " (an all-zero UUID identifies no device)."
)


def _request_component(fields: dict[str, tuple[dict, str]]) -> dict:
    properties = {
        name: {**_body_schema(schema), "description": words}
        for name, (schema, words) in fields.items()
    }
    properties["api_key"] = {"type": "string", "description": KEY_WORDS}
    properties["key"] = {"type": "string", "description": "Same as `api_key`."}
    return {
        "type": "object",
        "description": (
            "An install. Values are trimmed; an empty value (or JSON `null`) is an absent "
            f"field. {IDENTIFIER_WORDS} Strings: at most {installs.MAX_LENGTH} characters, "
            "no control characters. Unknown fields are ignored and listed in "
            "`ignored_fields`."
        ),
        "properties": properties,
        "required": ["publisher_name"],
    }


RESULT = {
    "type": "object",
    "properties": {
        "conversion_id": {
            "type": "integer",
            "description": "The stored conversion; for a duplicate, the original's.",
        },
        "transaction_id": {
            "type": "string",
            "description": "The install's own transaction ID (24 URL-safe characters).",
        },
        "duplicate": {
            "type": "boolean",
            "description": "This advertiser already reported this `id`: nothing was stored.",
        },
        "publisher_matched": {
            "type": "boolean",
            "description": "Whether `publisher_name` named a publisher.",
        },
        "postbacks_queued": {
            "type": "integer",
            "description": "Deliveries created (fired by the worker, never in the request).",
        },
        "ignored_fields": {
            "type": "array",
            "items": {"type": "string"},
            "maxItems": 50,
            "description": "Parameters this endpoint does not know, sorted (at most 50).",
        },
    },
    "required": [
        "conversion_id",
        "transaction_id",
        "duplicate",
        "publisher_matched",
        "postbacks_queued",
        "ignored_fields",
    ],
}


def _error(description: str, **extra) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": ERROR_REF}},
        **extra,
    }


RESPONSES = {
    "200": {
        "description": "Recorded, or recognised as a duplicate of an earlier `id`.",
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{RESULT_COMPONENT}"}}
        },
    },
    "400": _error(
        "Every problem at once, under the field's name (the identifier rule under "
        "`identifiers`, an unreadable body under `body`). Nothing is stored."
    ),
    "401": _error(
        "No API key, or one that is unknown or revoked (under `key`).",
        headers={"WWW-Authenticate": {"schema": {"type": "string"}}},
    ),
    "403": _error(
        "A staff key (an install belongs to an advertiser; under `key`), or a source "
        "address outside the advertiser's IP allowlist (under `ip`)."
    ),
    "405": _error(
        "Only GET and POST are allowed (under `method`).",
        headers={"Allow": {"schema": {"type": "string"}}},
    ),
    "413": _error("The body is too large (under `body`)."),
}

DESCRIPTION = (
    "Records an install reported by a tracker Integr8 has no integration with. The install "
    "becomes an approved conversion without a click, with its own transaction ID and the "
    "offer's revenue and payout, and the matched publisher's **Conversion** postbacks fire "
    "for it. Fields come as a query string (GET), or a JSON object or form body (POST; "
    "fields of the query string are read too and the body wins). The advertiser's IP "
    "allowlist applies. See docs/custom-postback.md."
)


def _operation(method: str, fields: dict[str, tuple[dict, str]]) -> dict:
    operation = {
        "operationId": f"custom_postback_{method}",
        "summary": "Record an install"
        + (" (fields in the query string)" if method == "get" else ""),
        "description": DESCRIPTION,
        "tags": [TAG],
        "security": [{"ApiKey": []}],
        "responses": RESPONSES,
    }
    if method == "get":
        operation["parameters"] = [
            {
                "in": "query",
                "name": name,
                "schema": schema,
                "description": words,
                "required": name == "publisher_name",
            }
            for name, (schema, words) in fields.items()
        ] + [
            {
                "in": "query",
                "name": "api_key",
                "schema": {"type": "string"},
                "description": KEY_WORDS,
            },
            {
                "in": "query",
                "name": "key",
                "schema": {"type": "string"},
                "description": "Same as `api_key`.",
            },
        ]
    else:
        body = {"schema": {"$ref": f"#/components/schemas/{REQUEST_COMPONENT}"}}
        operation["requestBody"] = {
            "required": True,
            "content": {
                media_type: body
                for media_type in (
                    "application/json",
                    "application/x-www-form-urlencoded",
                    "multipart/form-data",
                )
            },
        }
    return operation


def add_custom_postback(result: dict, generator, request, public) -> dict:
    """POSTPROCESSING_HOOKS entry: describe the custom postback endpoint."""
    fields = _fields()
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    # Copies, so no two places in the schema share an object (YAML would write aliases).
    schemas[REQUEST_COMPONENT] = copy.deepcopy(_request_component(fields))
    schemas[RESULT_COMPONENT] = copy.deepcopy(RESULT)
    result.setdefault("paths", {})[reverse("custom-postback")] = {
        method: copy.deepcopy(_operation(method, fields)) for method in ("get", "post")
    }
    return result


def state_path_ids(result: dict, generator, request, public) -> dict:
    """POSTPROCESSING_HOOKS entry: the `{id}` of a path is a row ID, 1 to 2**63-1.

    The generator sees only the routes' lookup_value_regex, `[0-9]+`, and states a string;
    any ID in the range that names no row (0 and IDs past it too) answers 404.
    """
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] == "id":
                    parameter["schema"] = copy.deepcopy(PATH_ID)
    return result


OTHER_ERRORS = {
    "description": (
        "Any other refusal, in the same shape: e.g. 400 for an unknown query parameter or a "
        "body that is not JSON or nested too deep, 404 for an ID that names no row, 413 for "
        "a body too large, 414 for a query string too long."
    ),
    "content": {"application/json": {"schema": ERROR_REF}},
}


def document_error_shape(result: dict, generator, request, public) -> dict:
    """POSTPROCESSING_HOOKS entry: every operation may answer a 4xx, always as an Error.

    Operations list the errors they are known for; the `4XX` range covers the rest (the
    statuses the middleware and the parsers give any request), so a client that checks
    statuses against the schema meets none it was not told about. The custom postback is
    left as described above: its RESPONSES list its statuses one by one.
    """
    custom_postback = reverse("custom-postback")
    for route, operations in result.get("paths", {}).items():
        if route == custom_postback:
            continue
        for operation in operations.values():
            operation.setdefault("responses", {}).setdefault("4XX", copy.deepcopy(OTHER_ERRORS))
    return result
