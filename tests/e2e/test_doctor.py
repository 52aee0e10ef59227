"""`icbot doctor` end to end: the real console script against the simulator at 09:15 ET — a go, and each failure
it can detect from a simulator fault (several per run where the setup is shared, to keep this fast)."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import replace
from datetime import date, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from ib_async import IB, Contract, LimitOrder

from icbot.clock import Clock, ny_datetime
from icbot.config import load_config
from icbot.core import agents
from icbot.runner.scheduler import RecordingRunner, prepare
from icbot.store.repo import Store
from tests.e2e.conftest import ICBOT, Day

pytestmark = pytest.mark.e2e

START = "2026-11-24T09:15:00"
SPEED = 20.0


def doctor(day: Day, *args: str, clock: str | None = None, agents_dir: Path | None = None) -> tuple[int, dict]:
    result = day.run("doctor", "--json", "--agents-dir", str(agents_dir or day.tmp / "agents"), *args, clock=clock)
    assert result.returncode in (0, 3), result.stdout + result.stderr
    payload = json.loads(result.stdout)
    assert payload["exit_code"] == result.returncode
    return result.returncode, {c["key"]: c for c in payload["checks"]}


def install_agents(day: Day) -> Path:
    """The agents as `icbot schedule install` writes them for this day's config, enabled (timers.target.wants)."""
    target = day.tmp / "agents"
    setup = prepare(
        load_config(day.config_path),
        platform=agents.SYSTEMD,
        zone=ZoneInfo("Europe/Berlin"),
        zone_name="Europe/Berlin",
        today=date(2026, 11, 24),
        target_dir=target,
        icbot=ICBOT,
        runner=RecordingRunner(),
    )
    setup.scheduler.install(setup.plan)
    wants = target / "timers.target.wants"
    wants.mkdir()
    for job in agents.JOBS:
        (wants / f"{job.unit}.timer").symlink_to(target / f"{job.unit}.timer")
    return target


def test_a_healthy_morning_is_a_go_and_the_test_alert_arrives(make_day):
    day = make_day(start=START, speed=SPEED)
    install_agents(day)
    code, checks = doctor(day, "--test-alert")
    bad = {k: c for k, c in checks.items() if c["level"] != "ok"}
    assert code == 0 and not bad, bad
    assert "real-time" in checks["data_options"]["message"] and "model greeks" in checks["data_options"]["message"]
    assert checks["api"]["message"].startswith("orders accepted")
    [alert] = day.alerts_received()
    assert "doctor test alert" in alert["title"] and alert["type"] == "info"
    assert not day.sim_orders()  # the what-if order was evaluated, never placed


def test_halt_wrong_account_delayed_data_leftovers_and_a_slow_clock_in_one_run(make_day):
    day = make_day(start=START, speed=SPEED, faults=["no-market-data"], sim_config={"account": "U7654321"})
    install_agents(day)
    with Store.open(day.db_path) as store:
        store.halt("manual stop before the FOMC", at=ny_datetime("2026-11-23", "16:00"))
    # a short put held from before (in the simulator's ledger) and a working order with yesterday's icbot ref
    far_put, next_put = day.sim.sim.call(lambda s: _far_puts(s)[:2])
    day.sim.sim.call(lambda s: s.engine.ledger.apply_fill(next_put, -1, 0.10))
    asyncio.run(_leave_an_order(day, far_put, "icbot:2026-11-23:paper:take_profit/abc123"))
    sim_clock = day.sim.clock
    ahead = replace(sim_clock, start=sim_clock.start + timedelta(seconds=5)).spec()  # this machine 5 s fast

    code, checks = doctor(day, clock=ahead)

    assert code == 3
    assert checks["halt"]["level"] == "fail" and "manual stop before the FOMC" in checks["halt"]["message"]
    assert checks["account"]["level"] == "fail" and "U7654321" in checks["account"]["message"]
    assert checks["gateway"]["level"] == "ok"
    for key in ("data_index", "data_options"):
        assert checks[key]["level"] == "fail" and "delayed data only" in checks[key]["message"], checks[key]
    assert checks["data_vix"]["level"] == "warn"  # the VIX filter is off
    leftovers = checks["leftovers"]
    assert leftovers["level"] == "fail"
    assert "icbot:2026-11-23:paper:take_profit/abc123" in leftovers["message"]
    assert "expiring today: run-today never adds to a position" in leftovers["message"]
    assert checks["clock"]["level"] == "fail" and "ahead of the gateway" in checks["clock"]["message"]
    assert checks["scheduler"]["level"] == "ok"


def test_competing_session(make_day):
    day = make_day(start=START, speed=SPEED, faults=["competing-session"])
    code, checks = doctor(day)
    assert code == 3
    assert checks["data_index"]["level"] == "fail" and "10197" in checks["data_index"]["message"]
    assert "log out the other session" in checks["data_options"]["fix"]
    assert checks["scheduler"]["level"] == "fail"  # nothing installed in this test's agents folder


def test_gateway_down_at_0915_alerts_urgently_and_a_late_firing_does_nothing(make_day):
    day = make_day(start=START, speed=SPEED, faults=["refuse-until=12:00"])
    result = day.run("doctor", "--scheduled", "--agents-dir", str(day.tmp / "agents"))
    assert result.returncode == 3, result.stdout + result.stderr
    assert "❌ gateway" in result.stdout and "connection refused" in result.stdout
    assert "no-go alert sent" in result.stdout
    assert "connect attempt" not in result.stderr  # one line says it, not one per attempt
    [alert] = day.alerts_received()
    # the minute doctor ran: 09:15, or a little later when a loaded machine is slow to start the process at x20
    sent = re.search(r"NO-GO at (\d\d):(\d\d) ET", alert["title"])
    assert alert["type"] == "failure" and sent, alert["title"]
    assert time(9, 15) <= time(int(sent[1]), int(sent[2])) <= day.sim.clock.now_ny().time(), alert["title"]
    assert "❌ gateway" in alert["message"] and "start IB Gateway" in alert["message"]
    # launchd's other local time for 09:15 ET (10:15 ET here) and a late wake: quiet, no connection, no alert
    late = Clock.virtual(ny_datetime("2026-11-24", "10:15"), SPEED).spec()
    result = day.run("doctor", "--scheduled", "-v", clock=late)
    assert result.returncode == 0 and result.stdout.startswith("too late"), result.stdout + result.stderr
    assert len(day.alerts_received()) == 1


@pytest.mark.xfail(
    strict=True,
    reason="the simulator's read-only fault refuses placed orders only; doctor's probe is a what-if order, which "
    "it lets through (whether IB refuses what-if orders in read-only mode is unverified)",
)
def test_read_only_api(make_day):
    day = make_day(start=START, speed=SPEED, faults=["read-only"])
    _, checks = doctor(day)
    assert checks["api"]["level"] == "fail"


def _far_puts(server) -> list[int]:
    """The simulator's SPXW puts, furthest out of the money first."""
    puts = [o for o in server.engine.catalog.options.values() if o.right == "P" and o.trading_class == "SPXW"]
    return [o.con_id for o in sorted(puts, key=lambda o: o.strike)]


async def _leave_an_order(day: Day, con_id: int, ref: str) -> None:
    ib = IB()
    await ib.connectAsync("127.0.0.1", day.sim.port, clientId=77)
    try:
        [contract] = await ib.qualifyContractsAsync(Contract(conId=con_id, exchange="SMART"))
        trade = ib.placeOrder(contract, LimitOrder("BUY", 1, 0.05, orderRef=ref))
        for _ in range(100):
            if trade.orderStatus.status in ("Submitted", "PreSubmitted"):
                break
            await asyncio.sleep(0.02)
    finally:
        ib.disconnect()
