"""IB's date-time spellings, both ways: goodAfterTime / goodTillDate / endDateTime / execution filter times.

TWS accepts ``YYYYMMDD HH:MM:SS <zone>`` (US/Eastern, America/New_York, UTC, EST5EDT, ...),
``YYYYMMDD-HH:MM:SS`` meaning UTC, and the deprecated bare ``YYYYMMDD HH:MM:SS`` in the TWS login time zone
(here New York, the zone the simulated gateway runs in). Sends use ``US/Eastern``, as real gateways do.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icbot.clock import NEW_YORK

try:
    ZoneInfo("US/Eastern")
    ZONE_NAME = "US/Eastern"
except ZoneInfoNotFoundError:  # a tz database without the legacy links
    ZONE_NAME = "America/New_York"


def parse_ib_time(text: str, default_zone: ZoneInfo = NEW_YORK) -> datetime | None:
    """An aware datetime, or None for an empty string; ValueError for anything unreadable."""
    s = " ".join(text.strip().split())
    if not s:
        return None
    if len(s) == 8 and s.isdigit():
        return datetime.strptime(s, "%Y%m%d").replace(tzinfo=default_zone)
    if len(s) >= 17 and s[8] == "-":
        return datetime.strptime(s[:17], "%Y%m%d-%H:%M:%S").replace(tzinfo=UTC)
    parts = s.split(" ")
    if len(parts) < 2:
        raise ValueError(f"unreadable IB time {text!r}")
    stamp = datetime.strptime(parts[0] + " " + parts[1], "%Y%m%d %H:%M:%S")  # noqa: DTZ007 (zone set below)
    if len(parts) == 2:
        return stamp.replace(tzinfo=default_zone)
    zone_text = " ".join(parts[2:])
    if zone_text.upper() in ("UTC", "GMT", "Z"):
        return stamp.replace(tzinfo=UTC)
    try:
        zone = ZoneInfo(zone_text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {zone_text!r} in {text!r}") from None
    return stamp.replace(tzinfo=zone)


def format_ib_time(t: datetime) -> str:
    """``20261124 09:32:05 US/Eastern``: how executions, bars and completion times are stamped."""
    return t.astimezone(NEW_YORK).strftime("%Y%m%d %H:%M:%S ") + ZONE_NAME


def parse_duration(text: str) -> timedelta:
    """IB durationStr: ``7200 S``, ``1 D``, ``2 W``, ``1 M``, ``1 Y`` (trading days are not counted here)."""
    parts = text.strip().split()
    if len(parts) != 2 or not parts[0].isdigit():
        raise ValueError(f"bad duration {text!r}")
    n, unit = int(parts[0]), parts[1].upper()
    seconds = {"S": 1, "D": 86400, "W": 7 * 86400, "M": 31 * 86400, "Y": 366 * 86400}.get(unit)
    if seconds is None:
        raise ValueError(f"bad duration unit in {text!r}")
    return timedelta(seconds=n * seconds)


def parse_bar_size(text: str) -> int:
    """IB barSizeSetting (``1 min``, ``5 mins``, ``30 secs``, ``1 hour``) in seconds."""
    parts = text.strip().lower().split()
    if len(parts) != 2 or not parts[0].isdigit():
        raise ValueError(f"bad bar size {text!r}")
    n, unit = int(parts[0]), parts[1].rstrip("s")
    seconds = {"sec": 1, "min": 60, "hour": 3600, "day": 86400}.get(unit)
    if seconds is None or n <= 0:
        raise ValueError(f"bad bar size {text!r}")
    return n * seconds
