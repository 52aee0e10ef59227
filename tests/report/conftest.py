"""A journal for the report's output tests: forty closed paper days written through the real store (tests/
report_journal.py), plus what a report must mark but never count, an experiment trade, and a journaled net
liquidation at the first trade."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
import yaml

from icbot.clock import ny_datetime
from icbot.core.journal import Phase
from icbot.store import Store
from tests.report_journal import seed_journal

ICBOT = str(Path(sys.executable).parent / "icbot")
FIRST = date(2025, 1, 2)
TRADES = 40
NET_LIQUIDATION = 250_000.0


@pytest.fixture(scope="session")
def journal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("report") / "icbot.db"
    seed_journal(db, trades=TRADES, first=FIRST)
    with Store.open(db) as store:
        at = ny_datetime(FIRST.isoformat(), "09:31:30")
        store.event(
            None,
            trade_date=FIRST,
            mode="paper",
            phase=Phase.CONNECT,
            status="ok",
            message="connected",
            at=at,
            data={"account": "DU1", "net_liquidation": NET_LIQUIDATION},
        )
        for day, fields in (
            (date(2025, 3, 3), {"status": "open", "credit": 4.0, "quantity": 1, "short_put": 5000.0, "vix": 18.0}),
            (date(2025, 3, 4), {"status": "closed", "exit_reason": "manual", "quantity": 1, "short_put": 5000.0}),
            (date(2025, 3, 5), {"status": "no_trade", "no_trade_reason": "VIX above the filter"}),
        ):
            store.save_trade(day, "paper", ny_datetime(day.isoformat(), "09:35"), **fields)
        day = date(2025, 1, 6)
        store.save_trade(
            day,
            "experiment",
            ny_datetime(day.isoformat(), "11:30"),
            status="closed",
            credit=3.0,
            quantity=1,
            mid_at_decision=-3.0,
            exit_reason="experiment_take_profit",
            exit_debit=2.25,
            pnl=75.0,
            short_put=5800.0,
            long_put=5780.0,
            short_call=5950.0,
            long_call=5970.0,
        )
    return db


@pytest.fixture(scope="session")
def config(journal: Path) -> Path:
    path = journal.with_name("config.yaml")
    path.write_text(yaml.safe_dump({"mode": "paper", "storage": {"db": str(journal)}}), encoding="utf-8")
    return path


@pytest.fixture
def icbot(config: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """`icbot report …` as a user runs it (a pipe, so no terminal: plain output)."""

    def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("ICBOT_")} | {"COLUMNS": "160"} | env
        return subprocess.run(
            [ICBOT, "report", "--config", str(config), *args],
            env=base,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    return run
