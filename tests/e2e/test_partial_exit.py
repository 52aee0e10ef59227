"""A multi-lot exit filled in part: ocaType 1 cancels the other exits at that fill, so the lots still open have no
stop — the next `check` (the real console script) gives them a complete set again, proven at the broker."""

from __future__ import annotations

from typing import Any

import pytest

from icbot.core.refs import attempt_of, role_of

pytestmark = pytest.mark.e2e

EXITS = ("take_profit", "stop", "time_exit")


def test_the_open_lots_of_a_partly_filled_exit_get_a_complete_set_again(make_day):
    day = make_day(size__contracts=3, size__max_contracts=3)
    opened = day.run("run-today")
    assert opened.returncode == 0, opened.stdout + opened.stderr
    assert day.trade().quantity == 3

    def one_lot_of_the_take_profit(server: Any) -> None:
        now = server.clock.now()
        server.engine.advance(now)
        [tp] = [o for o in server.engine.working_orders() if role_of(o.req.order_ref) == "take_profit"]
        server.engine.fill_at_limit(tp.client_id, tp.order_id, now, quantity=1)
        server.deliver()

    day.sim.sim.call(one_lot_of_the_take_profit)
    working = [
        o for o in day.sim_orders() if role_of(o.req.order_ref) in EXITS and o.status in ("PreSubmitted", "Submitted")
    ]
    assert [str(role_of(o.req.order_ref)) for o in working] == ["take_profit"]  # no stop for the two lots left

    checked = day.run("check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    working = [
        o for o in day.sim_orders() if role_of(o.req.order_ref) in EXITS and o.status in ("PreSubmitted", "Submitted")
    ]
    assert sorted(str(role_of(o.req.order_ref)) for o in working) == sorted(EXITS)
    assert all(o.req.total_qty == 2 and attempt_of(o.req.order_ref) == 2 for o in working)  # exactly the open lots
    assert len({o.req.oca_group for o in working}) == 1
    held = sorted(abs(p.qty) for p in day.sim.sim.positions().values() if p.qty)
    assert held == [2, 2, 2, 2]
    assert any("re-placed" in a["title"] for a in day.alerts_received())
