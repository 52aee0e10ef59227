"""The read-only journal reader of `icbot status`: the same records as `Store`, the standard library's sqlite3
only (no sqlite-utils, hence no pandas), and nothing ever written."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from icbot.core.journal import AlertLevel, ComboLeg, Phase, Role
from icbot.errors import StoreError
from icbot.store import Store
from icbot.store.reader import JournalReader, NoJournal

DAY = date(2026, 11, 24)
T0 = datetime(2026, 11, 24, 14, 32, tzinfo=UTC)
LEGS = (
    ComboLeg(1, "BUY", "P", 5880.0),
    ComboLeg(2, "SELL", "P", 5900.0),
    ComboLeg(3, "SELL", "C", 6100.0),
    ComboLeg(4, "BUY", "C", 6120.0),
)


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Path]:
    """A journal with one day's run, events, trade, an entry and its fills, an alert and a halt."""
    path = tmp_path / "icbot.db"
    with Store.open(path) as store:
        run = store.start_run(command="run-today", mode="paper", trade_date=DAY, at=T0, argv=["run-today"])
        store.event(run, trade_date=DAY, mode="paper", phase=Phase.CONNECT, status="ok", message="hi", at=T0)
        store.event(run, trade_date=DAY, mode="paper", phase=Phase.ORDER, status="start", message="BUY", at=T0)
        store.save_trade(DAY, "paper", T0, status="open", quantity=1, credit=4.35, short_put=5900.0)
        store.record_intent(
            trade_date=DAY,
            mode="paper",
            role=Role.ENTRY,
            order_ref="icbot:2026-11-24:paper:entry",
            action="BUY",
            order_type="LMT",
            quantity=1,
            legs=LEGS,
            at=T0,
            limit_price=-4.35,
        )
        for i, leg in enumerate(LEGS):
            store.record_fill(
                exec_id=f"e{i}.01",
                order_ref="icbot:2026-11-24:paper:entry",
                order_id=5,
                perm_id=9,
                trade_date=DAY,
                mode="paper",
                con_id=leg.con_id,
                local_symbol="",
                right=leg.right,
                strike=leg.strike,
                side="BOT" if leg.action == "BUY" else "SLD",
                quantity=1,
                price=1.0,
                at=T0,
                role=Role.ENTRY,
            )
        store.finish_run(run, exit_code=0, at=T0 + timedelta(seconds=40))
        store.record_alert(level=AlertLevel.INFO, title="filled", body="", delivered=False, error="no URL", at=T0)
        store.halt("manual halt", at=T0, by="test")
        check = store.start_run(command="check", mode="paper", trade_date=DAY, at=T0, argv=["check"])
        store.finish_run(check, exit_code=4, at=T0, summary="critical")
    return path


def test_the_reader_returns_what_the_store_returns(journal):
    with Store.open(journal, readonly=True) as store, JournalReader.open(journal) as reader:
        assert reader.trade(DAY, "paper") == store.trade(DAY, "paper")
        assert reader.events(DAY, "paper") == store.events(DAY, "paper")
        assert reader.orders(DAY, "paper") == store.orders(DAY, "paper")
        assert reader.fills(DAY, "paper") == store.fills(DAY, "paper")
        assert reader.alerts(limit=5) == store.alerts(limit=5)
        assert reader.halt_state() == store.halt_state()
        runs = store.runs()
        assert reader.runs([r.id for r in runs]) == sorted(runs, key=lambda r: r.id)
        assert reader.last_run("check", "paper") == next(r for r in runs if r.command == "check")
        assert reader.last_run("check", "live") is None


def test_the_reader_never_writes(journal):
    before = journal.read_bytes()
    with JournalReader.open(journal) as reader:
        reader.trade(DAY, "paper")
        with pytest.raises(StoreError):
            reader._rows("INSERT INTO halts (at, action, reason, \"by\") VALUES ('x', 'resume', '', 'me')")
    assert journal.read_bytes() == before


def test_no_journal_yet_is_not_an_error(tmp_path):
    with pytest.raises(NoJournal, match="nothing has been recorded"):
        JournalReader.open(tmp_path / "missing.db")
    (tmp_path / "empty.db").write_bytes(b"")
    with pytest.raises(NoJournal):
        JournalReader.open(tmp_path / "empty.db")
    sqlite3.connect(tmp_path / "blank.db").close()  # a zero-byte file sqlite3 left behind
    with pytest.raises(NoJournal):
        JournalReader.open(tmp_path / "blank.db")


def test_a_foreign_file_is_refused(tmp_path):
    (tmp_path / "notes.db").write_text("not a database")
    with pytest.raises(StoreError, match="not an SQLite database"):
        JournalReader.open(tmp_path / "notes.db")
    conn = sqlite3.connect(tmp_path / "other.db")
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="not an icbot database"):
        JournalReader.open(tmp_path / "other.db")
    assert not isinstance(StoreError("x"), NoJournal)


def test_reading_imports_neither_sqlite_utils_nor_pandas(journal):
    code = (
        "import sys; from datetime import date; from icbot.store.reader import JournalReader; "
        f"r = JournalReader.open({str(journal)!r}); r.trade(date(2026, 11, 24), 'paper'); r.fills(date(2026, 11, 24), "
        "'paper'); bad = [m for m in ('sqlite_utils', 'pandas', 'numpy') if m in sys.modules]; print(bad); "
        "sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
