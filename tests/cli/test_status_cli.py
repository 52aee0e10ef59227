"""`icbot status` without a gateway: what the journal-only view may import (speed), usage errors, the risk exit
code from the journal alone, and --watch (the real console script)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml

from icbot.clock import Clock, ny_datetime
from icbot.core.journal import ComboLeg, Role
from icbot.store import Store

ICBOT = Path(sys.executable).with_name("icbot")
DAY = date(2026, 11, 24)
T0 = datetime(2026, 11, 24, 14, 32, tzinfo=UTC)
# Modules the journal-only view must not load (each costs 0.1–0.5 s): see icbot/cli/status_cmd.py.
HEAVY = ("sqlite_utils", "pandas", "numpy", "exchange_calendars", "ib_async", "apprise", "pydantic", "tenacity")


def env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ICBOT_") and k != "NO_COLOR"}
    clock = Clock.virtual(ny_datetime(DAY.isoformat(), "10:00"), 1.0).spec()
    return base | {"ICBOT_CLOCK": clock} | extra


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A journal holding today's open condor with only two of its three exits, and a config pointing at it."""
    db = tmp_path / "icbot.db"
    legs = (ComboLeg(1, "BUY", "P", 5900.0), ComboLeg(2, "SELL", "P", 5920.0))
    with Store.open(db) as store:
        store.save_trade(DAY, "paper", T0, status="open", quantity=1, credit=4.35)
        for role, kind in ((Role.ENTRY, "LMT"), (Role.TAKE_PROFIT, "LMT"), (Role.STOP, "STP")):
            ref = f"icbot:{DAY}:paper:{role}"
            store.record_intent(
                trade_date=DAY,
                mode="paper",
                role=role,
                order_ref=ref,
                action="BUY" if role is Role.ENTRY else "SELL",
                order_type=kind,
                quantity=1,
                legs=legs,
                at=T0,
            )
            store.record_placed(ref, order_id=int(role is Role.ENTRY) + 10, perm_id=None, at=T0)
            store.record_order_status(
                ref, status="Filled" if role is Role.ENTRY else "Submitted", filled=float(role is Role.ENTRY),
                remaining=float(role is not Role.ENTRY), avg_fill_price=None, at=T0,
            )  # fmt: skip
    path = tmp_path / "config.yaml"
    cfg = {"mode": "paper", "gateway": {"port": 9}, "storage": {"db": str(db)}}
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


def icbot(*args: str, **kw: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ICBOT), *args], env=env(**kw), capture_output=True, text=True, timeout=60, check=False)


def test_the_journal_only_view_loads_none_of_the_heavy_packages(config):
    first = icbot("status", "--offline", "-c", str(config))  # builds the calendar cache next to the journal
    assert first.returncode == 4, first.stdout + first.stderr
    assert (config.parent / "calendar-XNYS.json").is_file()
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(ICBOT), "status", "--offline", "-c", str(config)],
        env=env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 4, done.stderr[-2000:]
    loaded = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert not [m for m in loaded if m.split(".")[0] in HEAVY], sorted(m for m in loaded if m.split(".")[0] in HEAVY)


def test_a_position_without_its_time_exit_is_exit_4_from_the_journal_alone(config):
    done = icbot("status", "--offline", "--json", "-c", str(config))
    assert done.returncode == 4, done.stderr
    out = json.loads(done.stdout)
    assert out["exit_code"] == 4 and out["exits_cover"]["missing"] == ["time_exit"]
    assert out["risk"] == ["position without complete exits: 1 open, take_profit, stop working for it, no time_exit"]
    screen = icbot("status", "--offline", "-c", str(config))
    assert screen.returncode == 4
    assert "❌ RISK: position without complete exits" in screen.stdout and "do NOT cover the 1 open" in screen.stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--date", "24.11.2026"], "--date: '24.11.2026' is not a date YYYY-MM-DD"),
        (["--watch", "0.5"], "Invalid value for '--watch': 0.5 is not in the range 1..3600"),
        (["--watch", "nan"], "Invalid value for '--watch': nan is not in the range 1..3600"),
        (["--timeout", "soon"], "Invalid value for '--timeout': 'soon' is not a number"),
        (["--json", "yes"], "takes no value"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(config, args, words):
    done = icbot("status", *args, "-c", str(config))
    assert done.returncode == 2, done.stdout + done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("icbot: ") and words in line


def signal_masks(pid: int) -> str:
    """The process's ignored, blocked and caught signal masks, for a failure message."""
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return " ".join(line.replace("\t", "") for line in lines if line.startswith(("SigIgn", "SigBlk", "SigCgt")))


# Ctrl-C in a terminal reaches a process whose SIGINT is at its default. A suite started in the background by a
# non-interactive shell (`make test &`) runs with SIGINT ignored, every child inherits that, and Python then keeps
# ignoring it (as it should: a parent that ignores SIGINT means it). So the command is started through a stub that
# puts SIGINT back to its default before it becomes icbot; the failure this caused once is diagnosed below.
AS_FROM_A_TERMINAL = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])"
)


def watch_argv(config: Path) -> list[str]:
    return [str(ICBOT), "status", "--offline", "--json", "--watch", "1", "-c", str(config)]


def test_watch_redraws_until_ctrl_c(config):
    proc = subprocess.Popen(
        [sys.executable, "-c", AS_FROM_A_TERMINAL, *watch_argv(config)],
        env=env(PYTHONFAULTHANDLER="1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    try:
        lines = [proc.stdout.readline() for _ in range(2)]  # two redraws, one object per line
        proc.send_signal(signal.SIGINT)
        try:
            _out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:  # say where it was and how its signals stood (SigIgn bit 1 is SIGINT)
            masks = f"child: {signal_masks(proc.pid)}; test: {signal_masks(os.getpid())}"
            proc.send_signal(signal.SIGABRT)  # PYTHONFAULTHANDLER prints every thread's stack
            _out, err = proc.communicate(timeout=10)
            pytest.fail(f"--watch went on after SIGINT ({masks}):\n{err}")
    finally:
        proc.kill()
    assert [json.loads(line)["exit_code"] for line in lines] == [4, 4]
    assert proc.returncode == 4, err  # the last view's code: Ctrl-C is how --watch ends, not an error
    assert "Traceback" not in err
