"""Opening the journal: refuse what is not ours, configure the connection, migrate under a write lock.

Several icbot processes may open the same file at once (`run-today`, a `check` fired by the scheduler,
`status` over SSH), so:

* WAL lets readers proceed while one process writes; ``busy_timeout=5000`` makes a second writer wait up
  to 5 s instead of failing at once.
* migrations run inside ``BEGIN IMMEDIATE``: two processes opening a brand-new file together cannot both
  create the tables; the second waits, re-checks and finds nothing pending.
* ``synchronous=FULL``: a handful of writes a day, and an order intent must survive a power cut.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from icbot.clock import real_monotonic
from icbot.errors import SchemaOutdated, StoreError
from icbot.store.identity import SQLITE_MAGIC as SQLITE_MAGIC
from icbot.store.lite import Database
from icbot.store.schema import APPLICATION_ID, ICBOT_TABLES, SYSTEM_TABLES, known_migration_names, migrations

BUSY_TIMEOUT_MS = 5000
LOCKED_RETRY_S = 0.02  # between tries when a new file is being initialised by another process


def open_database(path: Path, *, readonly: bool = False) -> Database:
    """A configured, migrated `Database` for `path`; StoreError (one line) when the file is not usable."""
    path = Path(path).expanduser()
    _check_file(path, readonly=readonly)
    try:
        conn = _connect(path, readonly=readonly)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open the icbot database {path}: {exc}") from None
    db = Database(conn, execute_plugins=False)
    give_up = real_monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            _prepare(db, path, readonly=readonly)
            return db
        except StoreError:
            conn.close()
            raise
        except sqlite3.OperationalError as exc:
            # Processes creating the same new file at once: switching it to WAL needs the file to itself, and
            # SQLite answers "locked" at once, without its busy wait, where waiting could deadlock. Every step is
            # idempotent (the migration re-checks under its write lock), so it is simply tried again.
            if "locked" in str(exc) and real_monotonic() < give_up:
                if conn.in_transaction:
                    conn.rollback()
                time.sleep(LOCKED_RETRY_S)
                continue
            conn.close()
            raise StoreError(f"{path} is not a usable icbot database: {exc}") from None
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(f"{path} is not a usable icbot database: {exc}") from None


def _prepare(db: Database, path: Path, *, readonly: bool) -> None:
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA foreign_keys = ON")
    _check_identity(db, path)
    if readonly:
        if migrations.pending(db):
            raise SchemaOutdated(f"{path} uses an older icbot schema; run any writing icbot command once to migrate it")
    else:
        _enable_wal(db)
        _migrate(db, path)


def _check_file(path: Path, *, readonly: bool) -> None:
    if path.exists() and not path.is_file():
        raise StoreError(f"{path} is not a file (an icbot SQLite database was expected)")
    if not path.exists():
        if readonly:
            raise StoreError(f"no icbot database at {path} yet (nothing has been recorded)")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the directory for the icbot database {path}: {exc}") from None
        return
    try:
        with path.open("rb") as fh:
            head = fh.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise StoreError(f"cannot read the icbot database {path}: {exc}") from None
    if head and head != SQLITE_MAGIC:
        raise StoreError(f"{path} is not an SQLite database (refusing to touch it)")


def _connect(path: Path, *, readonly: bool) -> sqlite3.Connection:
    if readonly:
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    return sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000)


def _enable_wal(db: Database) -> None:
    """Persistent in the file: set once, every later connection (readers included) gets WAL."""
    if db.journal_mode != "wal":
        db.enable_wal()
    db.execute("PRAGMA synchronous = FULL")


def _check_identity(db: Database, path: Path) -> None:
    """Refuse a foreign SQLite file or one written by a newer icbot, before writing anything to it."""
    # One statement, so one snapshot: read apart, the id of a file another process is initialising could be seen
    # before its commit and the tables after it, and the file be refused as foreign.
    app_id, names = db.execute(
        "SELECT (SELECT application_id FROM pragma_application_id()), "
        "(SELECT json_group_array(name) FROM sqlite_master WHERE type = 'table')"
    ).fetchone()
    tables = set(json.loads(names))
    if app_id == 0 and not (tables - SYSTEM_TABLES):
        return  # a brand-new (empty) file: ours to initialise
    if app_id != APPLICATION_ID:
        foreign = sorted(tables - ICBOT_TABLES - SYSTEM_TABLES) or sorted(tables)
        raise StoreError(
            f"{path} is not an icbot database (application_id {app_id}, tables {', '.join(foreign[:5])}); "
            "point storage.db at another file"
        )
    applied = [m.name for m in migrations.applied(db)]
    unknown = [name for name in applied if name not in known_migration_names()]
    if unknown:
        raise StoreError(
            f"{path} was written by a newer icbot (schema {unknown[-1]}); upgrade icbot before using this database"
        )


def _migrate(db: Database, path: Path) -> None:
    if not migrations.pending(db):
        return
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        _check_identity(db, path)  # another process may have initialised the file meanwhile
        migrations.apply(db)
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
