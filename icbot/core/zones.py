"""The one time zone every trading rule is written in: America/New_York (the exchange's own)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
