"""`icbot doctor`'s questions to the gateway, answered as icbot.core.doctor facts. Never places or cancels anything.

* `connect` — reachable, logged in, and which account fits the mode (connects as an "experiment" session first,
  so a wrong account is reported as such instead of ending the connection before anything else is asked);
* `clock_skew` — this machine's clock against the gateway's (reqCurrentTime, one-second resolution: the request
  is repeated until the gateway's second ticks over, which pins its clock to a few hundredths of a second);
* `feeds` — the index, VIX and a few of today's options, asked for as market data type 3 ("delayed if there is
  no real-time subscription") so that delayed data shows as delayed instead of as no data;
* `what_if` — a two-leg what-if order (IB evaluates its margin; whatIf orders are never placed), which a
  read-only API refuses with IB 321;
* `leftovers` — working icbot orders (by orderRef) and option positions of the traded class.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from icbot.broker.accounts import choose_account
from icbot.broker.errors import (
    BrokerError,
    CompetingSession,
    MarketDataUnavailable,
    OrderRejected,
    ReadOnlyApi,
    WrongAccount,
)
from icbot.broker.gateway import Gateway
from icbot.broker.session import COMPETING_CODE
from icbot.broker.types import ComboOrder
from icbot.clock import Clock
from icbot.core.doctor import ApiFacts, ClockFacts, FeedFacts, GatewayFacts, HeldOption, LeftoverFacts, OrderFact
from icbot.errors import IcbotError

DELAYED_IF_NO_REAL_TIME = 3  # reqMarketDataType 3: real-time when subscribed, else delayed (never "nothing")
WHAT_IF_REF = "icbot-doctor-what-if"  # not an icbot:<date> ref: no reconciliation ever looks at it
CLOCK_PROBES = 40
CLOCK_PAUSE_S = 0.05  # virtual seconds between two reqCurrentTime


async def connect(
    cfg: Any, *, clock: Clock, deadline: datetime, mode: str, strategy: Any
) -> tuple[Gateway | None, GatewayFacts]:
    """Connect with `cfg` (its client id already doctor's own); the facts say what worked."""
    try:
        gw = await Gateway.connect(
            replace(cfg, account=""), clock=clock, deadline=deadline, mode="experiment", strategy=strategy
        )
    except IcbotError as exc:  # GatewayUnavailable, or WrongAccount "no managed accounts" (not logged in)
        return None, GatewayFacts(False, error=str(exc))
    accounts = tuple(a for a in gw.ib.managedAccounts() if a)
    account: str | None = None
    account_error: str | None = None
    try:
        account = choose_account(mode, str(getattr(cfg, "account", "") or ""), accounts)
    except WrongAccount as exc:
        account_error = str(exc)
    if account is not None:
        gw.account = account
    gw.mode = mode
    return gw, GatewayFacts(
        True,
        accounts=accounts,
        account=account,
        account_error=account_error,
        connectivity_lost=gw.connectivity_lost,
    )


async def clock_skew(gw: Gateway, clock: Clock) -> ClockFacts:
    """This machine minus the gateway, in seconds, found at the moment the gateway's second ticks over."""
    prev_sent: float | None = None
    prev_value: float | None = None
    try:
        for _ in range(CLOCK_PROBES):
            sent = clock.timestamp()
            at = await gw.request(lambda: gw.ib.reqCurrentTimeAsync(), "current time", lane="current time")
            got = clock.timestamp()
            value = at.timestamp()
            if prev_value is not None and prev_sent is not None and value > prev_value:
                # the gateway's clock read exactly `value` somewhere between the previous send and this answer
                return ClockFacts(skew_s=(prev_sent + got) / 2 - value, uncertainty_s=(got - prev_sent) / 2)
            prev_sent, prev_value = sent, value
            await clock.asleep(CLOCK_PAUSE_S)
    except IcbotError as exc:
        return ClockFacts(None, error=str(exc))
    if prev_value is not None and prev_sent is not None:  # the second never ticked: compare roughly
        return ClockFacts(skew_s=prev_sent - (prev_value + 0.5), uncertainty_s=1.0)
    return ClockFacts(None, error="no answer to reqCurrentTime")


def _line_type(ticker: Any) -> int | None:
    value = getattr(ticker, "marketDataType", None)
    return int(value) if isinstance(value, int) else None


def _error_facts(name: str, key: str, exc: BaseException) -> FeedFacts:
    code = getattr(exc, "code", None)
    if isinstance(exc, CompetingSession):
        code = COMPETING_CODE
    return FeedFacts(key, name, error_code=code if isinstance(code, int) else None, error=str(exc))


async def _index(gw: Gateway, symbol: str, key: str, timeout: float) -> FeedFacts:
    """One index line: level and market data type (the line is closed again, except the underlying's)."""
    try:
        value = await gw._index_level(symbol, keep=True, timeout=timeout)
    except (MarketDataUnavailable, CompetingSession, BrokerError) as exc:
        return _error_facts(symbol, key, exc)
    ticker = gw._index_lines.get(symbol)
    md_type = _line_type(ticker)
    if symbol != gw.product.symbol and ticker is not None and ticker.contract is not None:
        gw._index_lines.pop(symbol, None)
        gw._close_line(ticker.contract)
    return FeedFacts(key, symbol, value=value, md_type=md_type)


async def feeds(gw: Gateway, session_date: date | None, *, timeout: float = 8.0) -> list[FeedFacts]:
    """The underlying, VIX and (on a session day) a band of today's options with their model greeks."""
    gw.ib.reqMarketDataType(DELAYED_IF_NO_REAL_TIME)
    underlying = await _index(gw, gw.product.symbol, "data_index", timeout)
    vix = await _index(gw, "VIX", "data_vix", timeout)
    out = [underlying, vix]
    if session_date is not None:
        out.append(await _options(gw, session_date, underlying.value, vix.value, timeout))
    return out


async def _options(
    gw: Gateway, session_date: date, level: float | None, vix: float | None, timeout: float
) -> FeedFacts:
    name = f"{gw.product.trading_class} options {session_date}"
    try:
        listed = await gw.list_strikes(session_date)
        if not listed:
            return FeedFacts("data_options", name, error=f"no {gw.product.trading_class} options listed for today")
        centre = level if level is not None else listed[len(listed) // 2]
        band = gw.band_strikes(centre, listed, vol=(vix / 100.0) if vix else None, max_lines=8)
        await gw.stream_chain(session_date, band, settle=timeout)
        snap = await gw.wait_for_greeks(min_per_side=1, timeout=timeout)
    except (MarketDataUnavailable, CompetingSession, BrokerError) as exc:
        return _error_facts(name, "data_options", exc)
    types = [t for t in (_line_type(line.ticker) for line in gw._lines.values()) if t is not None]
    worst = max(types) if types else None  # 3/4 (delayed) and 2 (frozen) outrank 1 (real-time)
    return FeedFacts(
        "data_options",
        name,
        md_type=worst,
        lines=len(snap.quotes),
        puts_with_greeks=snap.count_deltas("P"),
        calls_with_greeks=snap.count_deltas("C"),
    )


async def what_if(gw: Gateway, session_date: date) -> ApiFacts:
    """A what-if put spread on two of today's streamed puts: read-only APIs refuse it (IB 321); nothing is placed."""
    puts = sorted(k for (right, k) in gw._lines if right == "P")
    if len(puts) < 2:
        listed = await gw.list_strikes(session_date)
        puts = listed[: len(listed) // 2][-2:]
    if len(puts) < 2:
        return ApiFacts(error="no two puts to build a what-if order from")
    try:
        long_put = await gw.qualify_option(session_date, "P", puts[0])
        short_put = await gw.qualify_option(session_date, "P", puts[1])
        order = ComboOrder(
            legs=(long_put.leg("BUY"), short_put.leg("SELL")),
            action="BUY",
            quantity=1,
            order_type="LMT",
            order_ref=WHAT_IF_REF,
            limit_price=-0.05,
        )
        margin = await gw.what_if_margin(order)
    except ReadOnlyApi:
        return ApiFacts(read_only=True)
    except OrderRejected as exc:
        return ApiFacts(error=str(exc))
    except BrokerError as exc:
        return ApiFacts(error=str(exc))
    if margin is not None and math.isnan(margin):
        return ApiFacts(error="the what-if order came back without a margin")
    return ApiFacts()


async def leftovers(gw: Gateway) -> LeftoverFacts:
    """Working icbot orders (any day, any client id) and the account's option positions of the traded class."""
    orders = []
    for o in await gw.open_orders():
        if o.order_ref.startswith("icbot:") and o.is_working:
            orders.append(OrderFact(o.order_id, o.order_ref, str(o.status), _ref_date(o.order_ref)))
    positions = []
    cls = gw.product.trading_class.upper()
    for p in await gw.positions():
        if p.sec_type != "OPT" or p.quantity == 0:
            continue
        root = (p.local_symbol.split() or [""])[0].upper()
        if root and root != cls:
            continue
        positions.append(HeldOption(p.local_symbol, p.quantity, p.expiry))
    return LeftoverFacts(tuple(orders), tuple(positions))


def _ref_date(ref: str) -> date | None:
    parts = ref.split(":")
    try:
        return date.fromisoformat(parts[1]) if len(parts) > 1 else None
    except ValueError:
        return None
