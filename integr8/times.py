"""Times from outside: aware, in UTC, within what the databases can store."""

from datetime import UTC, datetime, timedelta

# Real UTC offsets run from -12:00 to +14:00; Python accepts up to ±23:59 and PostgreSQL
# refuses more than ±15:59, so anything beyond ±14:00 is refused as bad input.
MAX_OFFSET = timedelta(hours=14)


def to_utc(moment: datetime) -> datetime:
    """moment in UTC; ValueError for an impossible offset or a time that overflows."""
    offset = moment.utcoffset()
    if offset is not None and abs(offset) > MAX_OFFSET:
        raise ValueError(f"UTC offset {offset} is out of range (at most ±14:00)")
    try:
        return moment.astimezone(UTC) if offset is not None else moment.replace(tzinfo=UTC)
    except OverflowError:
        raise ValueError("the time is out of range") from None
