"""The journal (SQLite via sqlite-utils) and the day lock. See docs/storage.md.

`Store` is imported on first use: sqlite-utils pulls in pandas (about half a second), which the read-only
reader (`icbot.store.reader`, for `icbot status`) and `icbot.store.rows` must not pay for merely by living in
this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from icbot.store.lock import AlreadyRunning, day_lock

if TYPE_CHECKING:
    from icbot.store.repo import Store

__all__ = ["AlreadyRunning", "Store", "day_lock"]


def __getattr__(name: str) -> Any:
    if name == "Store":
        from icbot.store.repo import Store

        return Store
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
