"""Money amounts checked against the column that will hold them.

The limits are read from the model field (`max_digits`, `decimal_places`), never written
down a second time: `DecimalField(max_digits=12, decimal_places=4)` holds at most
99999999.9999. A value beyond that must be refused at the door: PostgreSQL fails the
INSERT with "numeric field overflow" (a 500), and SQLite stores it and fails every later
read of the row with `decimal.InvalidOperation`.
"""

import re
from decimal import Decimal

from django.db import models

# Plain decimal notation, as billing systems write amounts (and as JSON numbers of this
# size print): no exponent, no "NaN"/"Infinity", no "1_000" or "1,5", ASCII digits only.
PLAIN_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)", re.ASCII)


class InvalidAmount(ValueError):
    """Why a value is not an amount the column stores; the caller quotes the value."""


def largest(field: models.DecimalField) -> Decimal:
    """The largest value the column holds: 99999999.9999 for (12, 4)."""
    return Decimal("9" * field.max_digits).scaleb(-field.decimal_places)


def whole_limit(field: models.DecimalField) -> Decimal:
    """Every value the column holds is below this: 100000000 for (12, 4)."""
    return Decimal(10) ** (field.max_digits - field.decimal_places)


def parse_amount(raw: str, field: models.DecimalField) -> Decimal:
    """The amount as the column stores it, or InvalidAmount.

    Never rounded: a value with non-zero digits beyond the column's decimal places is
    refused, because silently dropping them would change what is billed. Trailing zeros
    lose nothing ("1.50000" is 1.5000), and "-0" is 0.
    """
    if not PLAIN_DECIMAL.fullmatch(raw):
        raise InvalidAmount(
            "is not a decimal number: send digits with an optional decimal point, "
            "e.g. 12.34 (no exponent, no thousands separator)."
        )
    # Comparisons and quantize below are exact; arithmetic would round to 28 digits.
    amount = Decimal(raw)
    if amount < 0:
        raise InvalidAmount("is negative: an amount is a number ≥ 0.")
    if amount > largest(field):
        raise InvalidAmount(f"is too large: the largest amount accepted is {largest(field):f}.")
    # copy_abs: -0 is stored as 0.
    stored = amount.copy_abs().quantize(Decimal(1).scaleb(-field.decimal_places))
    if stored != amount:
        raise InvalidAmount(
            f"has more than {field.decimal_places} decimal places: amounts are stored to "
            f"{field.decimal_places} places and are not rounded."
        )
    return stored
