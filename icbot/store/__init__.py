"""The journal (SQLite via sqlite-utils) and the day lock. See docs/storage.md."""

from icbot.store.lock import AlreadyRunning, day_lock
from icbot.store.repo import Store

__all__ = ["AlreadyRunning", "Store", "day_lock"]
