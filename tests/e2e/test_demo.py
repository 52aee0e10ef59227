"""`icbot demo` — what `make demo` runs — as a user runs it: the real console script, start to finish."""

from __future__ import annotations

import os
import subprocess
from datetime import date

import pytest

from icbot.store.repo import Store
from tests.e2e.conftest import ICBOT

pytestmark = pytest.mark.e2e


def demo(*args: str, timeout: float = 120, **env_extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ICBOT_")}
    env["COLUMNS"] = "120"
    env.update(env_extra)
    return subprocess.run([ICBOT, "demo", *args], env=env, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.mark.slow
def test_demo_prints_a_whole_simulated_day_and_keeps_its_journal(tmp_path):
    db = tmp_path / "demo.db"
    temp = tmp_path / "tmp"
    temp.mkdir()
    result = demo("--date", "2026-11-24", "--db", str(db), TMPDIR=str(temp))
    assert result.returncode == 0, result.stdout + result.stderr
    assert list(temp.glob("icbot-demo-*")) == []  # its work folder is cleaned up (the journal kept at --db)
    out = result.stdout
    for phase in ("connect", "underlying", "select", "order", "fill", "exits", "done", "closed"):
        assert phase in out
    assert "Phases" in out and "Orders" in out and "P/L" in out
    store = Store.open(db, readonly=True)
    try:
        trade = store.trade(date(2026, 11, 24), "paper")
    finally:
        store.close()
    assert trade is not None and trade.status == "closed"
    assert trade.exit_reason in ("take_profit", "stop", "time_exit")
    assert trade.pnl is not None and f"{trade.pnl:,.2f}" in out


def test_demo_refuses_a_day_without_a_session_in_one_line():
    result = demo("--date", "2026-11-26")  # Thanksgiving
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "not a trading session" in result.stderr
