"""Opening the journal: create + migrate, re-open, refuse files that are not ours, WAL, append-only guards."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlite_utils import Database

from icbot.core.journal import TradeStatus
from icbot.errors import StoreError
from icbot.store import Store
from icbot.store.schema import APPLICATION_ID, ICBOT_TABLES, known_migration_names

AT = datetime(2026, 11, 24, 14, 32, tzinfo=UTC)
DAY = date(2026, 11, 24)


def test_open_creates_parent_dirs_and_every_table(tmp_path: Path):
    path = tmp_path / "deep" / "er" / "icbot.db"
    store = Store.open(path)
    try:
        assert path.is_file()
        assert set(store.db.table_names()) >= ICBOT_TABLES
        assert store.db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        applied = [r["name"] for r in store.db["_sqlite_migrations"].rows]
        assert applied == known_migration_names()
    finally:
        store.close()


def test_reopen_is_idempotent_and_keeps_data(tmp_path: Path):
    path = tmp_path / "icbot.db"
    with Store.open(path) as store:
        store.halt("test", at=AT)
    for _ in range(2):
        with Store.open(path) as store:
            assert store.halted() == (True, "test")
            assert store.db["_sqlite_migrations"].count == len(known_migration_names())


def test_wal_busy_timeout_and_foreign_keys_are_on(tmp_path: Path):
    path = tmp_path / "icbot.db"
    with Store.open(path) as store:
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
        assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert store.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    # WAL is a property of the file: a plain sqlite3 connection sees it too
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_a_text_file_is_refused_untouched(tmp_path: Path):
    path = tmp_path / "notes.db"
    path.write_text("these are my trading notes, not a database\n")
    with pytest.raises(StoreError, match="not an SQLite database") as info:
        Store.open(path)
    assert "\n" not in str(info.value)
    assert path.read_text() == "these are my trading notes, not a database\n"


def test_a_directory_is_refused(tmp_path: Path):
    with pytest.raises(StoreError, match="not a file"):
        Store.open(tmp_path)


def test_a_foreign_sqlite_database_is_refused_and_left_alone(tmp_path: Path):
    path = tmp_path / "other.db"
    db = Database(path)
    db["customers"].insert({"name": "x"})
    db.close()
    with pytest.raises(StoreError, match=r"not an icbot database.*customers"):
        Store.open(path)
    db = Database(path)
    assert db.table_names() == ["customers"]
    assert db.journal_mode == "delete"  # we did not even switch it to WAL
    db.close()


def test_another_applications_id_is_refused_even_when_empty(tmp_path: Path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA application_id = 1234")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="application_id 1234"):
        Store.open(path)


def test_a_database_from_a_newer_icbot_is_refused(tmp_path: Path):
    path = tmp_path / "icbot.db"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('icbot', 'm999_future', 'x')"
    )
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match=r"newer icbot.*m999_future"):
        Store.open(path)


def test_an_empty_file_is_initialised(tmp_path: Path):
    path = tmp_path / "icbot.db"
    path.touch()
    with Store.open(path) as store:
        assert "trades" in store.db.table_names()


def test_readonly_never_creates_a_file(tmp_path: Path):
    path = tmp_path / "missing.db"
    with pytest.raises(StoreError, match="no icbot database"):
        Store.open(path, readonly=True)
    assert not path.exists()


def test_readonly_reads_but_cannot_write(tmp_path: Path):
    path = tmp_path / "icbot.db"
    with Store.open(path) as store:
        store.halt("maintenance", at=AT)
    with Store.open(path, readonly=True) as ro:
        assert ro.halted() == (True, "maintenance")
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            ro.resume(at=AT)


def test_rows_can_never_be_deleted(tmp_path: Path):
    with Store.open(tmp_path / "icbot.db") as store:
        store.save_trade(DAY, "paper", AT, status="pending")
        store.halt("x", at=AT)
        for table in ("trades", "halts"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                store.db.execute(f"DELETE FROM {table}")
        assert store.db["trades"].count == 1
        assert store.db["halts"].count == 1


def test_history_rows_can_never_be_changed(tmp_path: Path):
    with Store.open(tmp_path / "icbot.db") as store:
        run = store.start_run(command="check", mode="paper", trade_date=DAY, at=AT, argv=[])
        store.event(run, trade_date=DAY, mode="paper", phase="connect", status="ok", message="up", at=AT)
        store.record_alert(level="info", title="t", body="b", delivered=True, error=None, at=AT)
        for sql in ("UPDATE events SET message = 'rewritten'", "UPDATE alerts SET delivered = 0"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                store.db.execute(sql)
        store.save_trade(DAY, "paper", AT)
        with pytest.raises(sqlite3.IntegrityError, match="identity"):
            store.db.execute("UPDATE trades SET trade_date = '2020-01-01'")
        assert store.events(DAY, "paper")[0].message == "up"


def test_events_must_reference_an_existing_run(tmp_path: Path):
    with Store.open(tmp_path / "icbot.db") as store:
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            store.event(999, trade_date=DAY, mode="paper", phase="connect", status="ok", message="", at=AT)
        store.event(None, trade_date=DAY, mode="paper", phase="kill", status="info", message="no run", at=AT)
        assert [e.phase for e in store.events(DAY, "paper")] == ["kill"]


def test_a_corrupt_sqlite_file_is_refused_with_one_line(tmp_path: Path):
    path = tmp_path / "icbot.db"
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    with pytest.raises(StoreError) as info:
        Store.open(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_a_file_without_write_permission_can_still_be_read_readonly(tmp_path: Path):
    path = tmp_path / "icbot.db"
    with Store.open(path) as store:
        store.halt("x", at=AT)
    path.chmod(0o400)
    try:
        with Store.open(path, readonly=True) as ro:
            assert ro.halted() == (True, "x")
    finally:
        path.chmod(0o600)


def test_an_older_journal_is_migrated_forward_keeping_its_rows(tmp_path: Path):
    from icbot.store.schema import migrations

    path = tmp_path / "icbot.db"
    db = Database(path)
    migrations.apply(db, stop_before="m002_trade_exit_health")  # the journal as the first release wrote it
    db.execute(
        "INSERT INTO trades (trade_date, mode, status, created_at, updated_at) "
        "VALUES ('2026-11-23', 'paper', 'closed', '2026-11-23T14:32:00.000000+00:00', "
        "'2026-11-23T21:00:00.000000+00:00')"
    )
    db.close()
    with pytest.raises(StoreError, match="older icbot schema"):
        Store.open(path, readonly=True)
    with Store.open(path) as store:
        assert [r["name"] for r in store.db["_sqlite_migrations"].rows] == known_migration_names()
        old = store.trade(date(2026, 11, 23), "paper")
        assert old is not None and old.status is TradeStatus.CLOSED and old.exits_ok is None
        row = store.save_trade(DAY, "paper", AT, exits_ok=True, time_exit_at="2026-11-24T11:30:00-05:00")
        assert row.exits_ok is True and row.time_exit_at == datetime(2026, 11, 24, 16, 30, tzinfo=UTC)


def test_the_journal_writer_imports_sqlite_utils_without_pandas_and_pandas_still_imports_after():
    """icbot.store.lite keeps sqlite-utils from importing pandas and numpy (0.2 s at every check); a later import
    of pandas (the exchange calendar) is not harmed, and a journal still opens, writes and reads."""
    import subprocess
    import sys

    code = (
        "import sys, tempfile; from pathlib import Path; from datetime import date, datetime, UTC; "
        "from icbot.store import Store; "
        "loaded = [m for m in ('pandas', 'numpy') if m in sys.modules]; "
        "store = Store.open(Path(tempfile.mkdtemp()) / 'icbot.db'); "
        "store.save_trade(date(2026, 11, 24), 'paper', datetime(2026, 11, 24, 14, 32, tzinfo=UTC), status='open', "
        "quantity=1, credit=4.35); "
        "print(store.trade(date(2026, 11, 24), 'paper').credit); store.close(); "
        "import pandas, sqlite_utils.db as d; print(loaded, d.pd is None, pandas.Timestamp(0).year)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["4.35", "[] True 1970"]
