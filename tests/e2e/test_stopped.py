"""Stopped from outside (SIGTERM, as `launchctl bootout` or a shutdown sends it): the run ends like any other —
its working entry cancelled, its `runs` row closed, the day's outcome journaled — and a later rerun says what
actually happened instead of inventing a connection failure."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from icbot.core.refs import role_of
from icbot.sim.fills import FillParams
from tests.e2e.helpers import wait_for

pytestmark = pytest.mark.e2e

NO_FILLS = FillParams(p_mid=0.0, p_near=0.0)


def test_sigterm_during_the_ladder_cancels_the_entry_and_closes_the_run(make_day):
    day = make_day(sim_config={"fill": NO_FILLS}, start="2026-11-24T09:31:30", speed=10)
    proc = subprocess.Popen(
        day.argv("run-today"), env=day.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for(lambda: any(role_of(o.req.order_ref) == "entry" for o in day.sim_orders()))
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 3, out + err  # a clean no-trade, not 143
    (entry,) = [o for o in day.sim_orders() if role_of(o.req.order_ref) == "entry"]
    assert entry.status == "Cancelled" and entry.filled == 0  # nobody is left owning a working order
    trade = day.trade()
    assert trade.status == "no_trade" and "stopped from outside (SIGTERM)" in trade.no_trade_reason
    store = day.store()
    try:
        (run,) = [r for r in store.runs() if r.command == "run-today"]
    finally:
        store.close()
    assert run.finished_at is not None and run.exit_code == 3

    later = f"2026-11-24T15:00:00-05:00@{time.time():.3f}x1"
    rerun = day.run("run-today", "-v", clock=later)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "already no_trade" in rerun.stdout
    assert [a["type"] for a in day.alerts_received()] == ["warning"]  # one "no trade" alert, no invented failure
