"""Streaming market data for one reqMktData subscription: which ticks to send, and only when they change.

Options get bid/ask/last/close with sizes and option computations (bid 10, ask 11, last 12, model 13, each
carrying the underlying price); indices get last/high/low/close/open with size 0 and no bid/ask, as IB
sends them; a BAG gets its natural bid/ask from the legs. Delayed data (market data type 3/4 without a live
subscription) uses IB's delayed tick ids (66–76, greeks 80–83).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from icbot.sim import messages as msg
from icbot.sim.fills import mix
from icbot.sim.market import Greeks, Market, Quote

Fields = list[object]
Messages = list[Fields]

LIVE = {"bid": 1, "ask": 2, "last": 4, "high": 6, "low": 7, "close": 9, "open": 14, "bid_size": 0, "ask_size": 3}
DELAYED = {
    "bid": 66,
    "ask": 67,
    "last": 68,
    "high": 72,
    "low": 73,
    "close": 75,
    "open": 76,
    "bid_size": 69,
    "ask_size": 70,
}
GREEK_TICKS_LIVE = (10, 11, 12, 13)
GREEK_TICKS_DELAYED = (80, 81, 82, 83)
UNSET_BAND = 0.03  # unset-greeks: strikes within 3 % of spot ...
UNSET_SHARE = 4  # ... one in four of them, chosen by the seed


def unset_computation(req_id: int, tick_type: int) -> Fields:
    """IB's "not computed" option computation (ibapi processTickOptionComputationMsg's sentinels): impliedVol -1,
    delta -2, optPrice -1, pvDividend -1, gamma/vega/theta -2, undPrice -1."""
    return msg.tick_option_computation(req_id, tick_type, -1.0, -2.0, -1.0, -1.0, -2.0, -2.0, -2.0, -1.0)


def unset_pick(market: Market, con_id: int, t: datetime, seed: int) -> bool:
    """Whether the unset-greeks fault blanks this option now: near the money and picked by the seed."""
    spec = market.option(con_id)
    if spec is None or mix(seed, con_id, 0x6E) % UNSET_SHARE:
        return False
    spot = market.xsp(t) if spec.symbol == "XSP" else market.spx(t)
    return abs(spec.strike / spot - 1.0) <= UNSET_BAND


@dataclass(slots=True)
class Subscription:
    req_id: int
    kind: str  # option | index | bag
    con_id: int
    legs: list[tuple[int, int]] = field(default_factory=list)
    snapshot: bool = False
    delayed: bool = False
    min_tick: float = 0.05
    sent: dict[object, object] = field(default_factory=dict)
    last_push_real: float = -math.inf
    last_push_virtual: float = -math.inf
    started: bool = False


@dataclass(slots=True)
class PendingSnapshot:
    """A snapshot reqMktData on its way: its first ticks are due at `first_at`, the rest and tickSnapshotEnd at
    `end_at` (virtual epoch seconds)."""

    sub: Subscription
    first_at: float
    end_at: float
    sent_first: bool = False


def _price_ticks(sub: Subscription, q: Quote, names: tuple[str, ...], out: Messages, ids: dict[str, int]) -> None:
    for name in names:
        price = getattr(q, name)
        if math.isnan(price):
            continue
        if name == "bid":
            size = q.bid_size
        elif name == "ask":
            size = q.ask_size
        elif name == "last" and sub.kind != "index":
            size = 1
        else:
            size = 0
        key = ("p", name)
        prev = sub.sent.get(key)
        if prev == (price, size):
            continue
        if isinstance(prev, tuple) and prev[0] == price and name in ("bid", "ask"):
            out.append(msg.tick_size(sub.req_id, ids[f"{name}_size"], size))
        else:
            out.append(msg.tick_price(sub.req_id, ids[name], price, size))
        sub.sent[key] = (price, size)


def _greek_tick(sub: Subscription, tick_type: int, g: Greeks | None, opt_price: float | None, out: Messages) -> None:
    key = ("g", tick_type)
    if g is None:  # no volatility fits (e.g. a zero bid): IB sends the computation with its sentinels
        if sub.sent.get(key) != "unset":
            sub.sent[key] = "unset"
            out.append(unset_computation(sub.req_id, tick_type))
        return
    price = g.opt_price if opt_price is None else opt_price
    sig = (round(g.implied_vol, 5), round(g.delta, 5), round(price, 4), round(g.und_price, 2))
    if sub.sent.get(key) == sig:
        return
    sub.sent[key] = sig
    out.append(
        msg.tick_option_computation(
            sub.req_id, tick_type, g.implied_vol, g.delta, price, g.pv_dividend, g.gamma, g.vega, g.theta, g.und_price
        )
    )


def ticks(
    sub: Subscription, market: Market, t: datetime, *, greeks_ok: bool, unset_seed: int | None = None
) -> Messages:
    """The messages that bring this subscriber up to date at `t` (empty if nothing changed).

    `unset_seed` (the unset-greeks fault): options picked by `unset_pick` get all four computations unset."""
    out: Messages = []
    ids = DELAYED if sub.delayed else LIVE
    if sub.kind == "index":
        q = market.index_quote(sub.con_id, t)
        _price_ticks(sub, q, ("last", "high", "low", "close", "open"), out, ids)
        return out
    if sub.kind == "bag":
        q = market.combo_quote(sub.legs, t)
        _price_ticks(sub, q, ("bid", "ask", "last"), out, ids)
        return out
    q = market.quote(sub.con_id, t)
    _price_ticks(sub, q, ("bid", "ask", "last", "close"), out, ids)
    if greeks_ok:
        g_ids = GREEK_TICKS_DELAYED if sub.delayed else GREEK_TICKS_LIVE
        if unset_seed is not None and unset_pick(market, sub.con_id, t, unset_seed):
            for tick_type in g_ids:
                _greek_tick(sub, tick_type, None, None, out)
            return out
        model: Greeks | None = market.greeks(sub.con_id, t)
        bid_g, ask_g = market.side_greeks(sub.con_id, t)
        _greek_tick(sub, g_ids[0], bid_g, None, out)
        _greek_tick(sub, g_ids[1], ask_g, None, out)
        _greek_tick(sub, g_ids[2], model, q.last, out)
        _greek_tick(sub, g_ids[3], model, None, out)
    return out


def preamble(sub: Subscription, md_type: int) -> Messages:
    """What TWS sends before the first tick: tickReqParams (81) and marketDataType (58)."""
    return [
        msg.tick_req_params(sub.req_id, sub.min_tick, "c70003" if sub.kind != "index" else "", 3),
        msg.market_data_type(sub.req_id, md_type),
    ]
