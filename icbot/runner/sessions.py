"""The XNYS session table (icbot.core.session_table), cached in a small file next to the journal.

Loading exchange_calendars (and pandas under it) and building its calendar costs about half a second of CPU;
`status --offline` has 0.3 s in all, and `check` runs every five minutes. So every command that asks about
sessions — run-today, check with its bar recording, status, schedule (its listing and the agents' plan), doctor,
resume, whatif and the demo's choice of day — reads the session table from ``calendar-XNYS.json`` next to the
journal (`table_for`, `day_session`). It is built from exchange_calendars (then written, atomically) only when the
file is missing, unreadable, does not match its checksum, or was built by another exchange_calendars version or
another icbot calendar range. The key is the installed exchange_calendars *version*, read from its package metadata
directory name (a directory listing, not an import), because holidays and closures only ever change with an
exchange_calendars release. The table covers the whole range icbot trades (2020–2035), so it never goes stale with
the date, and it answers exactly what the calendar answers (tests/core/test_session_table.py, day by day).

Trade-off: the first command after installing or upgrading exchange_calendars pays the half second once (and so
does every command when the journal's folder is not writable); after that each answers from the file. A file
changed by hand no longer matches its checksum and is rebuilt.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from icbot import json_cache
from icbot.core.calendar import CALENDAR_END, CALENDAR_NAME, CALENDAR_START
from icbot.core.session_table import SessionTable, table_from_calendar

if TYPE_CHECKING:
    from icbot.config import Config
    from icbot.core.schedule import SessionTimes

CACHE_NAME = f"calendar-{CALENDAR_NAME}.json"


def calendar_version() -> str:
    """The installed exchange_calendars version, without importing it ("unknown" if it cannot be told)."""
    spec = importlib.util.find_spec("exchange_calendars")
    if spec is None or not spec.origin:
        return "missing"
    site = Path(spec.origin).parent.parent
    try:
        names = [n for n in os.listdir(site) if n.startswith("exchange_calendars-") and n.endswith(".dist-info")]
    except OSError:
        names = []
    if len(names) != 1:  # none (an unusual install) or several (a broken one): no cache key to trust
        return "unknown"
    return names[0].removeprefix("exchange_calendars-").removesuffix(".dist-info")


def cache_key() -> str:
    return f"exchange_calendars {calendar_version()} {CALENDAR_NAME} {CALENDAR_START}..{CALENDAR_END}"


def session_table(cache_dir: Path | None) -> SessionTable:
    """The session table: from ``cache_dir/calendar-XNYS.json`` when it was built for this installation, else
    built from exchange_calendars (and cached when `cache_dir` is an existing, writable folder)."""
    key = cache_key()
    trusted = "unknown" not in key and "missing" not in key
    path = cache_dir / CACHE_NAME if cache_dir is not None else None
    if path is not None and trusted:
        cached = _read(path)
        if cached is not None and cached.source == key:
            return cached
    table = _built(key)
    if path is not None and trusted and path.parent.is_dir():
        _write(path, table)
    return table


@functools.cache
def _built(key: str) -> SessionTable:
    """The table from the calendar, once per process (a process with the calendar loaded needs no file)."""
    from icbot.core.calendar import load_calendar

    return table_from_calendar(load_calendar(), source=key)


def table_for(config: Config | None) -> SessionTable:
    """The session table cached next to `config`'s journal (without a valid configuration: built, not cached)."""
    return session_table(config.db_path.parent if config is not None else None)


def day_session(config: Config, day: date) -> SessionTimes | None:
    """`day`'s open, close, entry, deadline and time exit under `config` (None: no session that day), from the
    session table cached next to the journal; OutOfCalendarRange outside the calendar's range."""
    return table_for(config).session_times(day, config.entry, config.exits)


def _read(path: Path) -> SessionTable | None:
    data = json_cache.read(path)
    if data is None:
        return None
    try:
        return SessionTable.from_json(data)
    except ValueError:  # damaged, edited or from another icbot version: built again
        return None


def _write(path: Path, table: SessionTable) -> None:
    json_cache.write(path, table.to_json())
