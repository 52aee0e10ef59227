"""The entry instant waits for nothing, and what moved before it stays safe (docs/architecture.md, "The fresh
morning"): the rival check and the band before 09:32:00, the order at the instant, the decision journaled after
the send — and a run killed between the journaled intent and the send is repaired by the next one.

The runner is driven in-process against the simulator (tests/runner/harness.py), and the
simulator's own books say what the gateway received and when.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from icbot.broker.market import MAX_LINES
from icbot.core.journal import OrderStatus, Role, TradeStatus
from icbot.errors import EXIT_OK
from icbot.runner.records import record_intent
from icbot.runner.run_today import RIVAL_CHECK_STANDS, FreshDay, run_day
from icbot.sim.fills import FillParams
from tests.runner.harness import Harness

pytestmark = pytest.mark.e2e


class Killed(BaseException):
    """The process dies here (SIGKILL): nothing after this line runs, nothing is cleaned up by icbot."""


def test_the_order_leaves_at_the_instant_the_rival_check_before_it_the_decision_after_it(harness):
    # 50 virtual ms are 25 real ones; 4 real seconds before the instant; the first rung fills (the fill is not
    # what is tested here)
    h: Harness = harness(
        start="2026-11-24T09:31:52",
        speed=2,
        sim_config={"fill": FillParams(p_mid=1.0, p_near=1.0)},
        exits__confirm_seconds=1,
    )
    assert h.run_day() == EXIT_OK, h.lines
    entry_at = h.session.entry_at
    placed = h.sim.sim.requests("placeOrder")
    looked = [r.at for r in h.sim.sim.requests("reqAllOpenOrders")]
    assert placed and placed[0].at >= entry_at
    assert any(at < entry_at for at in looked), "the rival check is made before the instant"
    again = any(entry_at <= at < placed[0].at for at in looked)
    # the early check stands for a send soon after the instant; a later send (a loaded machine) checks again
    assert again == (placed[0].at > entry_at + RIVAL_CHECK_STANDS), (placed[0].at, looked)
    events = {(e.phase, e.status): e.at for e in h.store.events(h.ctx.trade_date, h.ctx.mode)}
    intent = h.store.entry_order(h.ctx.trade_date, h.ctx.mode)
    assert intent is not None and intent.intent_at <= placed[0].at  # the intent is journaled before the send
    assert events[("select", "ok")] >= entry_at and events[("wait_entry", "ok")] >= entry_at
    assert h.sim.sim.stats().max_md_lines <= MAX_LINES


def test_killed_between_the_journaled_intent_and_the_send_the_rerun_sends_the_entry_once(harness, monkeypatch):
    h: Harness = harness(start="2026-11-24T09:31:30")

    async def killed_after_the_intent(day: FreshDay) -> int:
        assert day.order is not None
        record_intent(day.ctx, day.order, Role.ENTRY)
        raise Killed

    with monkeypatch.context() as m:
        m.setattr(FreshDay, "send_entry", killed_after_the_intent)
        with pytest.raises(Killed):
            h.run_day()
    intent = h.store.entry_order(h.ctx.trade_date, h.ctx.mode)
    assert intent is not None and intent.transmitted and intent.status is OrderStatus.INTENT
    assert h.entries() == []  # the gateway never saw it

    store = h.store
    again = replace(h.ctx, outbox=[], finished=False)
    again.run_id = store.start_run(
        command="run-today", mode=again.mode, trade_date=again.trade_date, at=again.now(), argv=[]
    )
    code = asyncio.run(run_day(again, h.session))
    assert code == EXIT_OK, h.lines
    (entry,) = h.entries()  # exactly one entry, under the journaled orderRef
    assert entry.req.order_ref == intent.order_ref
    assert h.trade().status is TradeStatus.OPEN and h.trade().exits_ok is True
