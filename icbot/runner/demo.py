"""`icbot demo`: one simulated trading day end to end, in well under a minute.

It starts the bundled simulated IB Gateway in this process at 09:31:00 New York time of a session day, then runs
the *real* `icbot run-today` and `icbot check` commands as subprocesses that share the simulator's virtual
clock through ICBOT_CLOCK — the same path launchd takes, just faster. The entry minutes run at a moderate speed
(so the 5-second ladder and the 09:33 deadline are exercised faithfully); once run-today has finished, the
simulator's clock is re-anchored at a high speed for the hours until the exits resolve.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import yaml

from icbot.clock import ENV_VAR, NEW_YORK, Clock, ny_datetime
from icbot.config import Config
from icbot.runner.sessions import table_for
from icbot.sim.fixture import start_sim
from icbot.store.repo import Store

# The simulated morning starts at DEMO_START and runs at ENTRY_SPEED until run-today is done: 09:31:00 → 09:33:00
# in 12 real seconds. run-today, a fresh Python process, is streaming its band about a second of real time after it
# starts, 2.2 s at worst under the whole test suite on 2 cores; the 6 real seconds before 09:32 leave room for a
# slower machine.
DEMO_START = "09:31:00"
ENTRY_SPEED = 10.0
MONITOR_SPEED = 900.0  # 09:33 → 11:30 in about eight real seconds
CHECK_EVERY = timedelta(minutes=5)
GIVE_UP_AT = "16:05"

Echo = Callable[[str], None]


@dataclass
class DemoResult:
    day: date
    db: Path
    run_today_code: int
    check_codes: list[int] = field(default_factory=list)


def pick_day(clock: Clock, config: Config, requested: date | None) -> date:
    """The requested day if it is a session, else the next session on or after today."""
    start = requested or clock.now_ny().date()
    sessions = table_for(config).next_sessions(start, 1, config.entry, config.exits)
    if requested is not None and sessions[0].date != requested:
        raise ValueError(f"{requested} is not a trading session; the next one is {sessions[0].date}")
    return sessions[0].date


def _write_config(path: Path, port: int, db: Path, mode: str) -> None:
    cfg = {
        "mode": str(mode),
        "gateway": {"host": "127.0.0.1", "port": port, "client_id": 31, "account": ""},
        "storage": {"db": str(db)},
    }
    path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")


def _run_cli(args: list[str], env: dict[str, str], echo: Echo, prefix: str) -> int:
    proc = subprocess.run(
        [sys.executable, "-m", "icbot", *args], env=env, capture_output=True, text=True, check=False, timeout=300
    )
    for line in (proc.stdout + proc.stderr).splitlines():
        echo(f"{prefix}{line}")
    return proc.returncode


def _trade_is_open(db_path: Path, day: date, mode: str) -> bool:
    store = Store.open(db_path, readonly=True)
    try:
        trade = store.trade(day, mode)
    finally:
        store.close()
    return trade is not None and trade.is_open


def check_until_closed(
    clock: Clock,
    *,
    run_check: Callable[[], int],
    is_open: Callable[[], bool],
    give_up: datetime,
    every: timedelta = CHECK_EVERY,
) -> list[int]:
    """Fire `check` the way the scheduler does — every few virtual minutes — until the trade is closed."""
    codes: list[int] = []
    while clock.now() < give_up:
        codes.append(run_check())
        if not is_open():
            break
        wake = clock.now() + every
        clock.sleep(max(0.0, (wake - clock.now()).total_seconds()))
    return codes


def run_demo(
    *,
    config: Config,
    day: date,
    db: Path | None,
    seed: int,
    mode: str,
    echo: Echo,
    workdir: Path,
) -> DemoResult:
    """Run the day; return the exit codes.

    `workdir` (the caller's, and the caller's to remove) receives the demo's config.yaml and, unless `db` names
    another file, the journal `icbot.db` with its day lock files.
    """
    db_path = db or workdir / "icbot.db"
    gw = start_sim(start=f"{day.isoformat()}T{DEMO_START}", speed=ENTRY_SPEED, seed=seed)
    try:
        cfg_path = workdir / "config.yaml"
        _write_config(cfg_path, gw.port, db_path, mode)
        base_env = {k: v for k, v in os.environ.items() if k not in ("ICBOT_CONFIG", "ICBOT_DB", "ICBOT_NOTIFY_URLS")}
        echo(f"simulated IB Gateway on 127.0.0.1:{gw.port}, {day} {DEMO_START} ET, seed {seed}; journal {db_path}")
        echo("")
        echo(f"$ icbot run-today   (virtual clock ×{ENTRY_SPEED:g})")
        env = {**base_env, ENV_VAR: gw.clock.spec()}
        code = _run_cli(["run-today", "--config", str(cfg_path)], env, echo, "  ")
        result = DemoResult(day, db_path, code)
        # Re-anchor the shared clock at the current virtual instant, much faster, for the monitoring hours.
        fast = gw.set_speed(MONITOR_SPEED)
        echo("")
        echo(f"$ icbot check   (every {CHECK_EVERY.seconds // 60} virtual minutes, virtual clock ×{MONITOR_SPEED:g})")
        give_up = ny_datetime(day.isoformat(), GIVE_UP_AT)
        env = {**base_env, ENV_VAR: fast.spec()}
        result.check_codes = check_until_closed(
            fast,
            run_check=lambda: _run_cli(["check", "--config", str(cfg_path)], env, echo, "  "),
            is_open=lambda: _trade_is_open(db_path, day, mode),
            give_up=give_up,
        )
        echo("")
        echo(f"virtual time now {fast.now().astimezone(NEW_YORK):%H:%M:%S} ET")
        return result
    finally:
        gw.stop()
