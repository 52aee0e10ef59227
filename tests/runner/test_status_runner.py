"""`icbot status`'s runner parts that need no gateway: the session-table cache, run states, the client id."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import UTC, date, datetime

from icbot.config import Config, GatewayConfig
from icbot.core.journal import Run
from icbot.runner import sessions
from icbot.runner.status import STATUS_CLIENT_OFFSET, run_state, status_client


def test_the_session_table_is_cached_next_to_the_journal_and_read_back(tmp_path):
    first = sessions.session_table(tmp_path)
    cached = tmp_path / sessions.CACHE_NAME
    assert cached.is_file()
    assert json.loads(cached.read_text())["source"] == sessions.cache_key() == first.source
    assert sessions.session_table(tmp_path) == first
    code = (
        "import sys; from pathlib import Path; from icbot.runner.sessions import session_table; "
        f"t = session_table(Path({str(tmp_path)!r})); print(t.last); "
        "sys.exit(1 if 'exchange_calendars' in sys.modules or 'pandas' in sys.modules else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, "reading the cache loaded exchange_calendars: " + done.stdout + done.stderr


def test_a_cache_of_another_exchange_calendars_version_or_a_broken_one_is_rebuilt(tmp_path):
    table = sessions.session_table(tmp_path)
    cached = tmp_path / sessions.CACHE_NAME
    stale = json.loads(cached.read_text())
    stale["source"] = "exchange_calendars 0.0.1 XNYS 2020-01-01..2035-12-31"
    stale["closed"] = {}  # an older release that knew no holidays
    cached.write_text(json.dumps(stale))
    assert sessions.session_table(tmp_path) == table
    assert json.loads(cached.read_text())["source"] == sessions.cache_key()
    cached.write_text("{half a file")
    assert sessions.session_table(tmp_path) == table
    edited = json.loads(cached.read_text())
    edited["closed"].pop("2026-11-26")  # Thanksgiving taken out by hand: the checksum no longer matches
    cached.write_text(json.dumps(edited))
    assert sessions.session_table(tmp_path) == table
    assert sessions.session_table(tmp_path).holiday(date(2026, 11, 26)) == "Thanksgiving"
    assert "2026-11-26" in json.loads(cached.read_text())["closed"]


def test_the_trading_commands_take_the_day_from_the_cache_without_loading_the_calendar(tmp_path):
    """run-today and check ask `setup.today_session` / `sessions.day_session`; with the cache next to the
    journal neither exchange_calendars nor pandas is imported (half a second of CPU at every check)."""
    sessions.session_table(tmp_path)
    code = (
        "import sys; from pathlib import Path; from datetime import date; "
        "from icbot.config import Config, StorageConfig; from icbot.runner.sessions import day_session; "
        "import icbot.runner.setup, icbot.store.repo; "
        f"c = Config(storage=StorageConfig(db=Path({str(tmp_path / 'icbot.db')!r}))); "
        "s = day_session(c, date(2026, 11, 27)); print(s.close.isoformat(), s.is_early_close); "
        "sys.exit(1 if 'exchange_calendars' in sys.modules or 'pandas' in sys.modules else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, "the day's session loaded exchange_calendars: " + done.stdout + done.stderr
    assert done.stdout.split() == ["2026-11-27T13:00:00-05:00", "True"]  # the day after Thanksgiving: a half day


def test_without_a_folder_there_is_no_cache_but_still_a_table(tmp_path):
    table = sessions.session_table(None)
    assert table.holiday(date(2026, 11, 26)) == "Thanksgiving"
    assert sessions.session_table(tmp_path / "missing") == table
    assert not (tmp_path / "missing").exists()


def test_the_cache_key_names_the_installed_version():
    from importlib.metadata import version

    assert sessions.calendar_version() == version("exchange_calendars")


def run(finished: bool, pid: int, host: str) -> Run:
    at = datetime(2026, 11, 24, 14, 31, tzinfo=UTC)
    return Run(1, "run-today", "paper", at, pid, host, "0.1.0", None, at if finished else None)


def test_run_states():
    here = socket.gethostname()
    assert run_state(run(True, 1, here)) == "finished"
    assert run_state(run(False, os.getpid(), here)) == "running"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert run_state(run(False, dead.pid, here)) == "gone"
    assert run_state(run(False, dead.pid, "another-mac")) == "running"  # cannot be told from here


def test_status_has_a_client_id_of_its_own():
    config = Config(gateway=GatewayConfig(client_id=31))
    assert status_client(config).gateway.client_id == 31 + STATUS_CLIENT_OFFSET == 33
    assert config.gateway.client_id == 31
