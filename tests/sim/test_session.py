"""A whole virtual session through ib_async: the simulator keeps pace at high speed; latency is simulated."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest
from ib_async import Index, LimitOrder, MarketOrder, Option, StopOrder

from icbot.clock import NEW_YORK, Clock
from tests.sim.helpers import IC, SESSION, combo_quote, condor, connect, run, wait_until


def engine_lag_s(gw) -> float:
    """Virtual seconds between the clock and the last second the engine has evaluated."""
    return gw.sim.call(lambda s: (s.clock.now() - datetime.fromtimestamp(s.engine._sec, UTC)).total_seconds())


def trade_a_day(gw, until_ny: str) -> dict[str, object]:
    """Stream 50 options + SPX + VIX, sell an iron condor, place the three OCA exits, run to `until_ny`."""
    out: dict[str, object] = {}

    async def go() -> None:
        ib = await connect(gw.host, gw.port, client_id=31)
        strikes = range(5900, 6025, 5)
        options = [Option("SPX", SESSION, k, r, "SMART", tradingClass="SPXW") for k in strikes for r in "PC"][:50]
        await ib.qualifyContractsAsync(*options)
        tickers = [ib.reqMktData(o) for o in options]
        spx, vix = Index("SPX", "CBOE"), Index("VIX", "CBOE")
        await ib.qualifyContractsAsync(spx, vix)
        spx_ticker = ib.reqMktData(spx)
        ib.reqMktData(vix)
        bag, _ = await condor(ib, *IC)
        _, ask = await combo_quote(ib, bag)
        entry = ib.placeOrder(bag, LimitOrder("BUY", 1, ask, orderRef="entry"))
        assert await wait_until(lambda: entry.orderStatus.status == "Filled")
        credit = -entry.orderStatus.avgFillPrice
        oca = dict(ocaGroup="day-oca", ocaType=1)
        exits = [
            ib.placeOrder(bag, LimitOrder("SELL", 1, -round(credit * 0.05, 1) - 0.05, orderRef="tp", **oca)),
            ib.placeOrder(bag, StopOrder("SELL", 1, -round(credit * 3, 1), triggerMethod=8, orderRef="stop", **oca)),
            ib.placeOrder(
                bag, MarketOrder("SELL", 1, goodAfterTime=f"{SESSION} 11:30:00 US/Eastern", orderRef="te", **oca)
            ),
        ]
        end = datetime.fromisoformat(f"2026-11-24T{until_ny}").replace(tzinfo=NEW_YORK)
        while gw.clock.now() < end:
            await asyncio.sleep(0.05)
            out["max_lag"] = max(float(out.get("max_lag", 0.0)), engine_lag_s(gw))  # type: ignore[arg-type]
        out["exits"] = {t.order.orderRef: t.orderStatus.status for t in exits}
        out["greeks"] = sum(t.modelGreeks is not None for t in tickers)
        out["spx"] = spx_ticker.last
        out["positions"] = [p.position for p in ib.positions()]
        ib.disconnect()

    run(go(), timeout=120)
    return out


@pytest.mark.slow
def test_a_whole_session_at_speed_3000_keeps_pace(sim_gateway_factory):
    gw = sim_gateway_factory(start="2026-11-24T09:30:00", speed=3000)  # 6000 left no slack on a busy CI machine
    result = trade_a_day(gw, "16:00:30")  # how fast, and how far the engine trails the clock: `make bench`
    assert result["greeks"] == 50 and 5000 < result["spx"] < 7000  # type: ignore[operator]
    statuses = sorted(result["exits"].values())  # type: ignore[union-attr]
    assert statuses.count("Filled") == 1 and statuses.count("Cancelled") == 2
    assert all(p == 0 for p in result["positions"])  # type: ignore[union-attr]
    assert gw.sim.stats().max_md_lines == 53  # 50 options, SPX, VIX and the combo quote of the helper


def test_simulated_latency_delays_both_directions(sim_gateway_factory):
    gw = sim_gateway_factory(speed=1, latency_ms=40)  # 40 ms virtual round trip = 40 ms real at speed 1

    async def go() -> float:
        ib = await connect(gw.host, gw.port)
        samples = []
        for _ in range(3):
            t0 = time.perf_counter()
            await ib.reqCurrentTimeAsync()
            samples.append(time.perf_counter() - t0)
        ib.disconnect()
        return min(samples)

    rtt = run(go())
    assert 0.038 <= rtt < 1.0  # at least the simulated round trip; the upper bound only catches a runaway
    sent = gw.sim.requests("reqCurrentTime")
    assert len(sent) == 3 and all(r.client_id == 1 for r in sent)


def test_the_clock_can_be_switched_to_a_faster_one_mid_run(sim_gateway_factory):
    gw = sim_gateway_factory(speed=60)

    async def go() -> None:
        ib = await connect(gw.host, gw.port)
        opt = Option("SPX", SESSION, 5940, "P", "SMART", tradingClass="SPXW")
        await ib.qualifyContractsAsync(opt)
        timed = ib.placeOrder(opt, MarketOrder("BUY", 1, goodAfterTime=f"{SESSION} 10:30:00 US/Eastern"))
        assert await wait_until(lambda: timed.orderStatus.status == "PreSubmitted")
        gw.set_speed(36_000)  # an hour every 0.1 s
        assert gw.env()["ICBOT_CLOCK"].endswith("x36000")
        assert await wait_until(lambda: timed.orderStatus.status == "Filled", timeout=3)
        ib.disconnect()

    run(go())
    with pytest.raises(ValueError):
        gw.set_clock(Clock.virtual(gw.clock.now() - timedelta(hours=1), 1))


def test_an_early_close_day_closes_the_series_at_1300(sim_gateway_factory):
    gw = sim_gateway_factory(start="2026-11-27T09:31:00")  # the day after Thanksgiving
    close = gw.sim.call(lambda s: s.market.close_time())
    assert close.astimezone(NEW_YORK).strftime("%H:%M") == "13:00"
    regular = sim_gateway_factory(start="2026-11-24T09:31:00")
    assert regular.sim.call(lambda s: s.market.close_time()).astimezone(NEW_YORK).strftime("%H:%M") == "16:00"
