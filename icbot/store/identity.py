"""What makes an SQLite file an icbot journal: its application_id and its tables.

Kept apart from schema.py (which needs sqlite-utils, and through it pandas) so the read-only journal reader
(`icbot.store.reader`, used by `icbot status`) can recognise a journal without paying for that import.
"""

from __future__ import annotations

# PRAGMA application_id marks the file as an icbot journal ("icbt"), so a foreign SQLite file is refused.
APPLICATION_ID = int.from_bytes(b"icbt", "big")

ICBOT_TABLES = frozenset(
    {"runs", "events", "trades", "orders", "order_status", "order_prices", "fills", "alerts", "halts", "meta", "bars"}
)
# Tables SQLite or sqlite-utils create for their own bookkeeping.
SYSTEM_TABLES = frozenset({"_sqlite_migrations", "sqlite_sequence", "sqlite_stat1", "sqlite_stat4"})

SQLITE_MAGIC = b"SQLite format 3\x00"
