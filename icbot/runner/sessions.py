"""The XNYS session table (icbot.core.session_table) for `icbot status`, cached in a small file.

Loading exchange_calendars costs about half a second; `status --offline` has 0.3 s in all. So status reads the
session table from ``calendar-XNYS.json`` next to the journal, and builds it from exchange_calendars (then
writes it, atomically) only when the file is missing, unreadable, or was built by another exchange_calendars
version or another icbot calendar range. The key is the installed exchange_calendars *version*, read from its
package metadata directory name (a directory listing, not an import), because holidays and closures only ever
change with an exchange_calendars release — the same release run-today and check use. The table covers the
whole range icbot trades (2020–2035), so it never goes stale with the date.

Trade-off: the first `status` after installing or upgrading exchange_calendars pays the half second once (and
so does every `status` when the journal's folder is not writable); after that every status answers from the
file. A hand-edited cache is not detected; delete the file to rebuild it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import tempfile
from pathlib import Path

from icbot.core.calendar import CALENDAR_END, CALENDAR_NAME, CALENDAR_START
from icbot.core.session_table import SessionTable, table_from_calendar

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
    from icbot.core.calendar import load_calendar

    table = table_from_calendar(load_calendar(), source=key)
    if path is not None and trusted and path.parent.is_dir():
        _write(path, table)
    return table


def _read(path: Path) -> SessionTable | None:
    try:
        return SessionTable.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


def _write(path: Path, table: SessionTable) -> None:
    """Write atomically (a reader never sees half a file); a folder we cannot write to just means no cache."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".calendar-", suffix=".json", dir=path.parent)
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(table.to_json(), fh, separators=(",", ":"))
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
