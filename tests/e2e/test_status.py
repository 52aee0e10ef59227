"""`icbot status` as a trader runs it over SSH: the real console script against the simulator, during an open
trade (journal only, then with the gateway), with an exit lost at the broker, after the close, and on a holiday.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from icbot.clock import Clock, ny_datetime
from tests.e2e.helpers import wait_for

pytestmark = pytest.mark.e2e

ANSI = re.compile(r"\x1b\[")


def status(day, *args: str, code: int = 0, clock: str | None = None) -> dict[str, Any]:
    result = day.run("status", "--json", *args, clock=clock, timeout=60)
    assert result.returncode == code, result.stdout + result.stderr
    [line] = result.stdout.splitlines()  # one object, one line
    return json.loads(line)


@pytest.mark.slow
def test_status_during_an_open_trade_with_an_exit_lost_and_after_the_close(make_day):
    day = make_day(exits__time_exit="09:45")
    opened = day.run("run-today")
    assert opened.returncode == 0, opened.stdout + opened.stderr

    # journal only
    journal = status(day, "--offline")
    assert journal["broker"] == "offline" and journal["positions"] is None
    assert journal["date"] == "2026-11-24" and journal["mode"] == "paper" and journal["halted"] is False
    phases = {p["phase"]: p for p in journal["phases"]}
    assert all(phases[p]["status"] == "ok" for p in ("connect", "select", "order", "fill", "exits", "done"))
    assert phases["filter"]["status"] == "skip" and phases["reconcile"]["status"] is None
    assert phases["done"]["at"].startswith("2026-11-24T09:3") and phases["done"]["at"].endswith("-05:00")
    trade = journal["trade"]
    assert trade["status"] == "open" and trade["contracts"] == 1 and trade["credit"] > 0
    assert trade["pnl"] is None and trade["strikes"]["short_put"] < trade["strikes"]["short_call"]
    assert sorted(e["role"] for e in journal["exits"]) == ["stop", "take_profit", "time_exit"]
    assert {e["source"] for e in journal["exits"]} == {"journal"} and journal["exits_cover"]["complete"]
    assert journal["next_session"]["date"] == "2026-11-25"
    assert journal["next_session"]["entry_ny"] == "2026-11-25T09:32:00-05:00"

    # with the gateway: its orders, the positions, and the unrealised P/L from the legs' mids
    broker = status(day)
    assert broker["broker"] == "ok" and broker["exit_code"] == 0 and broker["risk"] == []
    assert {e["source"] for e in broker["exits"]} == {"broker"} and len(broker["exits"]) == 3
    assert len({e["oca_group"] for e in broker["exits"]}) == 1
    assert broker["trade"]["pnl_kind"] == "unrealised" and isinstance(broker["trade"]["pnl"], float)
    assert broker["trade"]["close_debit"] > 0 and len(broker["positions"]) == 4
    assert broker["account"] == "******567" and "DU1234567" not in json.dumps(broker)

    # the screen: plain (stdout is not a terminal), at most 80 columns
    screen = day.run("status", timeout=60)
    assert screen.returncode == 0, screen.stdout + screen.stderr
    assert not ANSI.search(screen.stdout)
    assert max(len(line) for line in screen.stdout.splitlines()) <= 80
    for words in ("✅ no risk seen", "Trade: open", "take_profit", "stop", "time_exit", "broker: ok", "next entry"):
        assert words in screen.stdout, words

    # the stop lost at the broker (cancelled in TWS, say): the broker's view is risk, the journal does not know
    stop = next(o for o in day.sim_orders() if o.req.order_ref.split("/")[0].endswith(":stop"))
    day.sim.sim.call(lambda s: s.engine.cancel(stop.client_id, stop.order_id, s.clock.now()))
    lost = status(day, code=4)
    assert any("no stop" in reason for reason in lost["risk"]), lost["risk"]
    assert lost["exits_cover"]["missing"] == ["stop"]
    assert status(day, "--offline")["exit_code"] == 0  # journal first: it still believes the stop works

    # the time exit (09:45 here) closes the trade; check records it; status shows the realised P/L
    day.sim.set_speed(300.0)
    time_exit = next(o for o in day.sim_orders() if o.req.order_ref.split("/")[0].endswith(":time_exit"))
    wait_for(
        lambda: day.sim.sim.order(time_exit.order_id, time_exit.client_id).status == "Filled", 30.0, "the time exit"
    )
    checked = day.run("check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    closed = status(day)
    assert closed["trade"]["status"] == "closed" and closed["trade"]["exit_reason"] == "time_exit"
    assert closed["trade"]["pnl_kind"] == "realised" and isinstance(closed["trade"]["pnl"], float)
    assert closed["exits"] == [] and closed["exits_cover"] is None and closed["exit_code"] == 0
    assert {p["phase"]: p["status"] for p in closed["phases"]}["closed"] == "ok"
    assert closed["last_check"]["exit_code"] == 0


def test_status_on_a_holiday_names_it_and_the_half_day_after(make_day):
    day = make_day(start="2026-11-26T10:00:00", sim=False)  # Thanksgiving; the gateway's port is closed
    clock = Clock.virtual(ny_datetime("2026-11-26", "10:00"), 1.0).spec()
    out = status(day, clock=clock)
    assert out["date"] == "2026-11-26" and out["session"] is None and out["holiday"] == "Thanksgiving"
    assert out["trade"] is None and out["exit_code"] == 0
    assert out["broker"] not in ("ok", "offline") and "127.0.0.1:9" in out["broker"]
    assert out["next_session"]["date"] == "2026-11-27" and out["next_session"]["early_close"] is True
    assert out["next_session"]["close_ny"] == "2026-11-27T13:00:00-05:00"
    screen = day.run("status", "--offline", clock=clock, timeout=60)
    assert screen.returncode == 0, screen.stderr
    assert "today: no session (Thanksgiving)" in screen.stdout
    assert "next entry: Fri 2026-11-27 09:32 ET" in screen.stdout and "half day (closes 13:00 ET)" in screen.stdout
