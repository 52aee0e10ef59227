"""sqlite-utils, imported without pandas and numpy.

sqlite-utils imports pandas and numpy when they are installed, only to map their value types to column types
when a table is created from inserted values. icbot writes only Python values, into tables its own migrations
create, so those mappings are never used; importing pandas costs every journal-writing process about 0.2 s of
CPU (a `check` every five minutes, each test's subprocess). exchange_calendars installs pandas, so it is there.

While sqlite-utils is imported, the two names are marked as missing in `sys.modules` (Python's documented way
to make an import raise ImportError), unless a module has already imported them (numpy's stand-in of
icbot/deferred_numpy.py is not an import: it is marked too, and put back); afterwards the marks are removed, so
a later `import pandas` (exchange_calendars, building the calendar) imports it as usual. The marks
are process-wide for that moment, so they are only set while this is the process's only thread (a command's start);
otherwise (another thread might import pandas right then) sqlite-utils is imported as it is.
"""

from __future__ import annotations

import sys
import threading

from icbot import deferred_numpy

_SKIPPED = ("pandas", "numpy")


def _import_without_pandas() -> None:
    alone = threading.active_count() == 1
    stand_in = sys.modules.get(deferred_numpy.NAME) if deferred_numpy.is_deferred() else None
    marked = (
        [n for n in _SKIPPED if n not in sys.modules or (stand_in is not None and sys.modules[n] is stand_in)]
        if alone
        else []
    )
    for name in marked:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        import sqlite_utils
        import sqlite_utils.migrations  # noqa: F401
    finally:
        for name in marked:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]
        if stand_in is not None and deferred_numpy.NAME not in sys.modules:
            sys.modules[deferred_numpy.NAME] = stand_in


_import_without_pandas()

from sqlite_utils import Database  # noqa: E402
from sqlite_utils.migrations import Migrations  # noqa: E402

__all__ = ["Database", "Migrations"]
