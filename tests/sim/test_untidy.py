"""The untidy behaviours of a real gateway (faults.py: reject-after-ack, status-before-fills, unset-greeks,
restart-lost, farms-inactive, order-notice, positions-late, and the ``untidy`` profile), driven through ib_async
and ibapi."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from ib_async import IB, LimitOrder

from icbot.sim.faults import FaultSpecError, parse_fault, untidy_faults
from icbot.sim.marketdata import unset_computation
from tests.sim.helpers import IC, collect_errors, condor, connect, qualified_option, run, wait_until
from tests.sim.wire_decoding import decode_both

D = date(2026, 11, 24)
STOP_REF = "icbot:2026-11-24:paper:stop/t1"


def test_untidy_fault_specs_parse():
    f = parse_fault("reject-after-ack=stop:26", D)
    assert (f.kind, f.target, f.seconds) == ("reject-after-ack", "stop", 26.0)
    f = parse_fault("reject-after-ack=icbot:2026-11-24:paper:stop:5:Margin@09:32", D)
    assert (f.target, f.seconds, f.reason) == ("icbot:2026-11-24:paper:stop", 5.0, "Margin")
    assert f.at is not None and f.at.strftime("%H:%M") == "09:32"
    assert parse_fault("reject-after-ack=entry", D).seconds == 2.0
    assert parse_fault("status-before-fills", D).seconds == 3.0
    assert parse_fault("status-before-fills=10", D).seconds == 10.0
    assert parse_fault("unset-greeks=60", D).seconds == 60.0
    assert parse_fault("exec-correction", D).seconds == 5.0
    assert parse_fault("restart-lost=45@09:35", D).seconds == 45.0
    assert parse_fault("restart-lost-at=09:35", D).seconds == 30.0
    assert parse_fault("order-notice=stop", D).target == "stop"
    assert parse_fault("farms-inactive", D).kind == "farms-inactive"
    assert parse_fault("positions-late", D).seconds == 3.0
    assert parse_fault("positions-late=8", D).seconds == 8.0
    for bad in ("reject-after-ack", "status-before-fills=-1", "restart-lost=0", "positions-late=-2"):
        with pytest.raises(FaultSpecError):
            parse_fault(bad, D)


def test_untidy_profile_is_a_seeded_mix():
    start = datetime(2026, 11, 24, 14, 31, tzinfo=UTC)
    kinds = [[f.kind for f in untidy_faults(seed, start)] for seed in range(30)]
    assert all(len(k) >= 2 for k in kinds)
    assert kinds[3] == [f.kind for f in untidy_faults(3, start)]  # same seed, same mix
    assert len({tuple(k) for k in kinds}) > 5  # seeds differ
    every = {k for ks in kinds for k in ks}
    assert every == {
        "reject-after-ack",
        "status-before-fills",
        "exec-correction",
        "unset-greeks",
        "restart-lost",
        "farms-inactive",
        "positions-late",
        "order-notice",
    }


def test_the_profile_reaches_the_server_and_unknown_profiles_are_refused(sim_gateway_factory):
    gw = sim_gateway_factory(profile="untidy", seed=3)
    kinds = gw.sim.call(lambda s: [f.kind for f in s.faults.faults])
    assert kinds == [f.kind for f in untidy_faults(3, gw.clock.now())]
    with pytest.raises(RuntimeError, match="unknown profile"):
        sim_gateway_factory(profile="messy")


def test_reject_after_ack_rejects_the_aimed_order_later(sim_gateway_factory):
    gw = sim_gateway_factory(faults=["reject-after-ack=stop:30"])  # 30 virtual s = 0.5 real s at speed 60

    async def go() -> None:
        ib = await connect(gw.host, gw.port)
        errors = collect_errors(ib)
        bag, _ = await condor(ib, *IC)
        other = ib.placeOrder(bag, LimitOrder("BUY", 1, -30.0, orderRef="icbot:2026-11-24:paper:entry/t1"))
        aimed = ib.placeOrder(bag, LimitOrder("BUY", 1, -30.0, orderRef=STOP_REF))
        assert await wait_until(lambda: aimed.orderStatus.status == "Submitted")
        placed = gw.clock.now()
        assert await wait_until(lambda: any(c == 201 for _, c, _ in errors), timeout=3)
        (order_id, _, text) = next(e for e in errors if e[1] == 201)
        assert order_id == aimed.order.orderId
        assert text == "Order rejected - reason:Simulated rejection after acknowledgement"
        # the openOrder + orderStatus Inactive that follow the 201
        assert await wait_until(lambda: aimed.orderStatus.status == "Inactive")
        assert (gw.clock.now() - placed).total_seconds() >= 25
        assert other.orderStatus.status == "Submitted"
        ib.disconnect()

    run(go())
    by_ref = {o.req.order_ref: o.status for o in gw.sim.orders()}
    assert by_ref == {"icbot:2026-11-24:paper:entry/t1": "Submitted", STOP_REF: "Inactive"}


def test_status_before_fills_sends_the_executions_seconds_after_filled(sim_gateway_factory):
    gw = sim_gateway_factory(faults=["status-before-fills=20"])
    events: list[str] = []

    async def go() -> None:
        ib = await connect(gw.host, gw.port)
        ib.orderStatusEvent += lambda t: events.append(f"status:{t.orderStatus.status}")
        ib.execDetailsEvent += lambda t, f: events.append(f"exec:{f.contract.secType}")
        ib.commissionReportEvent += lambda t, f, r: events.append("commission")
        bag, _ = await condor(ib, *IC)
        trade = ib.placeOrder(bag, LimitOrder("BUY", 1, 30.0))  # a debit of 30: marketable, fills at once
        assert await wait_until(lambda: trade.orderStatus.status == "Filled")
        assert trade.fills == []
        assert await wait_until(lambda: events.count("commission") == 4, timeout=3)
        assert len(trade.fills) == 5 and sum(1 for f in trade.fills if f.contract.secType == "OPT") == 4
        ib.disconnect()

    run(go())
    first_exec = next(i for i, e in enumerate(events) if e.startswith("exec:"))
    assert "status:Filled" in events[:first_exec]
    assert events[first_exec:] == ["exec:BAG"] + ["exec:OPT"] * 4 + ["commission"] * 4


def test_positions_late_reports_a_fill_s_legs_only_s_seconds_after_it(sim_gateway_factory):
    gw = sim_gateway_factory(faults=["positions-late=60"])  # a virtual minute: a real second at x60

    async def go() -> tuple[set[int], set[int], set[int], float]:
        ib = await connect(gw.host, gw.port)
        bag, legs = await condor(ib, *IC)
        trade = ib.placeOrder(bag, LimitOrder("BUY", 1, 30.0))  # marketable: fills at once
        assert await wait_until(lambda: trade.orderStatus.status == "Filled")
        filled_at = gw.clock.now()
        early = {p.contract.conId for p in await ib.reqPositionsAsync() if p.position}
        pushed_early = {p.contract.conId for p in ib.positions() if p.position}
        assert await wait_until(lambda: len([p for p in ib.positions() if p.position]) == 4, timeout=5)
        late = {p.contract.conId for p in await ib.reqPositionsAsync() if p.position}
        lag = (gw.clock.now() - filled_at).total_seconds()
        ib.disconnect()
        assert {leg.conId for leg in legs} == late
        return early, pushed_early, late, lag

    early, pushed_early, late, lag = run(go())
    assert early == set() and pushed_early == set()  # reqPositions and the pushed updates alike
    assert len(late) == 4 and lag >= 55  # the push came when the reports caught up (engine steps are 1 s)


def test_exec_correction_resends_two_leg_executions_as_02_with_new_prices(sim_gateway_factory):
    gw = sim_gateway_factory(faults=["exec-correction=10"])
    execs: list[tuple[str, float]] = []
    reports: list[str] = []

    async def go() -> None:
        ib = await connect(gw.host, gw.port)
        ib.execDetailsEvent += lambda t, f: execs.append((f.execution.execId, f.execution.price))
        ib.commissionReportEvent += lambda t, f, r: reports.append(r.execId)
        bag, _ = await condor(ib, *IC)
        trade = ib.placeOrder(bag, LimitOrder("BUY", 1, 30.0))
        assert await wait_until(lambda: trade.orderStatus.status == "Filled")
        assert await wait_until(lambda: len(reports) == 6, timeout=3)
        ib.disconnect()

    run(go())
    first = dict(execs[:5])
    fixes = execs[5:]
    assert len(fixes) == 2 and all(e.endswith(".02") for e, _ in fixes)
    for exec_id, price in fixes:
        assert round(price - first[exec_id[:-3] + ".01"], 2) == 0.05
    assert reports[4:] == [e for e, _ in fixes]
    # The simulator's own record replaced the corrected executions; the legs still sum to the combo price.
    recs = gw.sim.executions()
    replaced = {e[:-3] + ".01" for e, _ in fixes}
    assert sorted(r.exec_id for r in recs) == sorted({*first, *dict(fixes)} - replaced)
    bag_rec = next(r for r in recs if r.contract.sec_type == "BAG")
    legs = sum((1 if r.side == "BOT" else -1) * r.price for r in recs if r.contract.sec_type == "OPT")
    assert round(legs, 2) == round(bag_rec.price, 2)


def test_zero_bid_sends_the_sentinel_computation_and_unset_greeks_blanks_near_strikes(sim_gateway_factory):
    gw = sim_gateway_factory(faults=["unset-greeks=600"])

    async def go() -> None:
        ib = await connect(gw.host, gw.port)
        far = ib.reqMktData(await qualified_option(ib, 5500, "P"))  # bid 0.00: no vol fits the bid
        picked = ib.reqMktData(await qualified_option(ib, 5940, "P"))  # near the money, picked by seed 7
        spared = ib.reqMktData(await qualified_option(ib, 5945, "P"))
        assert await wait_until(lambda: far.bidGreeks is not None and far.modelGreeks is not None)
        assert far.bid == 0.0 and far.bidGreeks.impliedVol is None and far.bidGreeks.delta is None
        assert far.bidGreeks.gamma is None and far.bidGreeks.undPrice is None
        assert far.bidGreeks.vega == -2 and far.bidGreeks.theta == -2  # ib_async keeps -2 for these two
        assert far.modelGreeks.delta is not None
        assert await wait_until(lambda: picked.modelGreeks is not None and spared.modelGreeks is not None)
        assert picked.bid > 0
        for comp in (picked.bidGreeks, picked.askGreeks, picked.lastGreeks, picked.modelGreeks):
            assert comp is not None and comp.delta is None and comp.impliedVol is None
        assert spared.modelGreeks.delta is not None and spared.modelGreeks.delta < 0
        ib.disconnect()

    run(go())


def test_sentinel_computation_decodes_to_none_in_both_clients():
    a, w = decode_both(unset_computation(5, 10))
    assert a[0][0] == "tickOptionComputation" and a[0][1][3:] == (-1.0, -2.0, -1.0, -1.0, -2.0, -2.0, -2.0, -1.0)
    assert w[0][0] == "tickOptionComputation"
    # ibapi's own sentinel handling: every value comes out as None
    assert list(w[0][1][3:]) == [None] * 8


def test_restart_lost_sends_1101_with_farms_and_forgets_subscriptions(sim_gateway_factory):
    gw = sim_gateway_factory(faults=["restart-lost=20@09:31:20"])

    async def go() -> None:
        ib = await connect(gw.host, gw.port)
        errors = collect_errors(ib)
        ib.reqMktData(await qualified_option(ib, 5940, "P"))
        assert await wait_until(lambda: any(c == 1101 for _, c, _ in errors), timeout=4)
        codes = [c for _, c, _ in errors]
        assert codes == [1100, 2103, 2105, 2157, 2104, 2106, 2158, 1101]
        assert "data lost" in next(t for _, c, t in errors if c == 1101)
        assert gw.sim.call(lambda s: [len(c.subs) for c in s.connections]) == [0]
        again = ib.reqMktData(await qualified_option(ib, 5945, "P"))  # resubscribing works
        assert await wait_until(lambda: again.bid > 0)
        ib.disconnect()

    run(go())


def test_farms_inactive_at_connect(sim_gateway_factory):
    gw = sim_gateway_factory(faults=["farms-inactive"])
    codes: list[int] = []

    async def go() -> None:
        ib = IB()
        ib.errorEvent += lambda req_id, code, text, contract: codes.append(code)
        await ib.connectAsync(gw.host, gw.port, clientId=1, timeout=5)
        assert await wait_until(lambda: 2158 in codes)
        ib.disconnect()

    run(go())
    assert codes == [2104, 2107, 2108, 2158]


def test_order_notice_10349_leaves_the_order_working(sim_gateway_factory):
    gw = sim_gateway_factory(faults=["order-notice=stop"])

    async def go() -> None:
        ib = await connect(gw.host, gw.port)
        errors = collect_errors(ib)
        bag, _ = await condor(ib, *IC)
        trade = ib.placeOrder(bag, LimitOrder("BUY", 1, -30.0, orderRef=STOP_REF))
        plain = ib.placeOrder(bag, LimitOrder("BUY", 1, -30.0, orderRef="icbot:2026-11-24:paper:entry/t1"))
        assert await wait_until(lambda: any(c == 10349 for _, c, _ in errors))
        assert [(i, c) for i, c, _ in errors] == [(trade.order.orderId, 10349)]
        assert errors[0][2] == "Order TIF was set to DAY based on order preset."
        # ib_async 2.1 treats any code outside its warning list as an order error and marks the trade
        # Cancelled, although the gateway keeps working it: the trap this fault exists to expose.
        assert await wait_until(lambda: trade.orderStatus.status == "Cancelled")
        assert await wait_until(lambda: plain.orderStatus.status == "Submitted")
        ib.disconnect()

    run(go())
    assert [o.status for o in gw.sim.orders()] == ["Submitted", "Submitted"]


def test_an_early_notice_with_an_unknown_code_comes_before_the_acknowledgement(sim_gateway_factory):
    gw = sim_gateway_factory(faults=["order-notice=stop:10999:early"])

    async def go() -> None:
        ib = await connect(gw.host, gw.port)
        events: list[str] = []
        ib.errorEvent += lambda req_id, code, text, contract: events.append(f"error {code}")
        ib.orderStatusEvent += lambda t: events.append(t.orderStatus.status)
        bag, _ = await condor(ib, *IC)
        trade = ib.placeOrder(bag, LimitOrder("BUY", 1, -30.0, orderRef=STOP_REF))
        assert await wait_until(lambda: "Submitted" in events)
        # before the gateway's first status (ib_async's own "Cancelled" for the error aside): not yet acknowledged
        assert events.index("error 10999") < events.index("PreSubmitted")
        assert events[-1] == "Submitted"  # and the order works on, whatever ib_async thought
        assert trade.order.orderId > 0
        ib.disconnect()

    run(go())
    assert [o.status for o in gw.sim.orders()] == ["Submitted"]


def test_ibapi_sees_the_late_rejection_as_201_then_inactive(sim_gateway_factory):
    from ibapi.client import EClient
    from ibapi.order import Order
    from ibapi.wrapper import EWrapper

    from tests.sim.ibapi_client import ibapi_condor

    gw = sim_gateway_factory(faults=["reject-after-ack=*:10"])
    legs = [gw.sim.call(lambda s, k=k, r=r: s.market.find_option(r, k).con_id) for k, r in zip(IC, "PPCC", strict=True)]

    class App(EWrapper, EClient):
        def __init__(self) -> None:
            EWrapper.__init__(self)
            EClient.__init__(self, self)
            self.seen: list[Any] = []
            self.ready = threading.Event()
            self.inactive = threading.Event()
            self.next_id = 0

        def nextValidId(self, orderId: int) -> None:
            self.next_id = orderId
            self.ready.set()

        def error(self, reqId: Any, errorTime: int, code: int, *args: Any) -> None:
            if code < 2100 or code >= 2200:
                self.seen.append(("error", code))

        def orderStatus(self, orderId: int, status: str, *args: Any) -> None:
            self.seen.append(("status", status))
            if status == "Inactive":
                self.inactive.set()

    app = App()
    app.connect(gw.host, gw.port, 7)
    thread = threading.Thread(target=app.run, daemon=True)
    thread.start()
    try:
        assert app.ready.wait(5)
        bag = ibapi_condor(legs)
        order = Order()
        order.action, order.orderType, order.totalQuantity, order.lmtPrice = "BUY", "LMT", 1, -30.0
        order.orderRef = "any"
        app.placeOrder(app.next_id, bag, order)
        assert app.inactive.wait(5)
    finally:
        app.disconnect()
        thread.join(5)
    statuses = [s for s in app.seen if s[0] == "status"]
    assert statuses[0] == ("status", "PreSubmitted")
    i201 = app.seen.index(("error", 201))
    assert ("status", "Submitted") in app.seen[:i201] and app.seen[i201 + 1 :] == [("status", "Inactive")]


ICBOT = Path(sys.executable).with_name("icbot")


def test_icbot_sim_refuses_an_unknown_profile():
    env = {k: v for k, v in os.environ.items() if k != "ICBOT_CLOCK"}
    result = subprocess.run(
        [str(ICBOT), "sim", "--port", "0", "--start", "2026-11-24T09:31:00", "--profile", "messy"],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )
    assert result.returncode == 2 and "--profile 'messy' is unknown" in result.stderr
