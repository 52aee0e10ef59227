"""The edge between ib_async's objects and icbot's plain values, both directions.

IB marks "no value" in several ways — 1.7976931348623157e308 (UNSET_DOUBLE), 2147483647, nan, and -1 for a
missing bid/ask — and ib_async passes them through. Every one of them becomes None here, so a quote or a price
above this module is either a real number or None, never a sentinel that could leak into a limit price.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime

from ib_async import Bag, Contract, Order, Ticker, Trade
from ib_async import ComboLeg as IbComboLeg
from ib_async.objects import AccountValue, BarData, Fill
from ib_async.objects import Position as IbPosition
from ib_async.util import UNSET_DOUBLE, UNSET_INTEGER

from icbot.broker.types import (
    DONE_STATUSES,
    AccountValues,
    ComboLeg,
    ComboOrder,
    Execution,
    OptionQuote,
    OrderState,
    Position,
    QualifiedOption,
)
from icbot.core.journal import OrderStatus
from icbot.core.zones import NEW_YORK as NEW_YORK  # re-exported: one definition, many importers

# IB's zone name for New York in order time fields (tws-protocol.md §5: "20250103 10:00:00 US/Eastern").
IB_EASTERN = "US/Eastern"
BAG_SYMBOL = "SPX"  # the default underlying of a BAG; the gateway passes its product's symbol (SPX or XSP)
ROUTE = "SMART"
CURRENCY = "USD"
_REAL_STATUSES = frozenset(
    {
        "PendingSubmit",
        "PendingCancel",
        "PreSubmitted",
        "Submitted",
        "ApiPending",
        "ApiCancelled",
        "Cancelled",
        "Filled",
        "Inactive",
    }
)


def num(value: object) -> float | None:
    """A float, or None for IB's and ib_async's 'no value' markers (None, '', nan, UNSET_DOUBLE, UNSET_INTEGER)."""
    if value is None or value == "":
        return None
    try:
        f = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if math.isnan(f) or math.isinf(f) or f >= UNSET_DOUBLE or f == UNSET_INTEGER:
        return None
    return f


def quote_price(value: object) -> float | None:
    """A bid/ask: like `num`, and also None for -1, IB's "no quote on this side"."""
    f = num(value)
    return None if f is None or f < 0 else f


# -- icbot → ib_async -------------------------------------------------------------------------------


def to_ib_bag(legs: Iterable[ComboLeg], symbol: str = BAG_SYMBOL) -> Bag:
    """The BAG contract of a combo: symbol = the legs' underlying (SPX or XSP), SMART-routed (a guaranteed
    option-vs-option combo), ratio 1 legs."""
    return Bag(
        symbol=symbol,
        exchange=ROUTE,
        currency=CURRENCY,
        comboLegs=[IbComboLeg(conId=leg.con_id, ratio=1, action=leg.action, exchange=ROUTE) for leg in legs],
    )


def format_good_after(at: datetime) -> str:
    """goodAfterTime with an explicit zone, in New York wall time: 'YYYYMMDD HH:MM:SS US/Eastern'."""
    if at.tzinfo is None:
        raise ValueError("good_after must be timezone-aware")
    return at.astimezone(NEW_YORK).strftime("%Y%m%d %H:%M:%S ") + IB_EASTERN


def to_ib_order(order: ComboOrder, *, account: str) -> Order:
    """An ib_async Order for a ComboOrder. Unset prices stay IB-unset, never 0 (0 is a real combo price)."""
    if order.quantity <= 0:
        raise ValueError(f"order quantity must be positive, got {order.quantity}")
    if order.order_type == "LMT" and order.limit_price is None:
        raise ValueError("a LMT order needs limit_price")
    if order.order_type == "STP" and order.aux_price is None:
        raise ValueError("a STP order needs aux_price (the stop price)")
    if not order.order_ref:
        raise ValueError("every icbot order carries an orderRef")
    ib = Order(
        action=order.action,
        totalQuantity=float(order.quantity),
        orderType=order.order_type,
        tif=order.tif,
        orderRef=order.order_ref,
        transmit=order.transmit,
        account=account,
    )
    if order.limit_price is not None:
        ib.lmtPrice = float(order.limit_price)
    if order.aux_price is not None:
        ib.auxPrice = float(order.aux_price)
    if order.trigger_method is not None:
        ib.triggerMethod = int(order.trigger_method)
    if order.good_after is not None:
        ib.goodAfterTime = format_good_after(order.good_after)
    if order.oca_group:
        ib.ocaGroup = order.oca_group
        ib.ocaType = int(order.oca_type if order.oca_type is not None else 1)
    return ib


# -- ib_async → icbot -------------------------------------------------------------------------------


def _right(value: str) -> str | None:
    v = (value or "").upper()
    if v in ("P", "PUT"):
        return "P"
    if v in ("C", "CALL"):
        return "C"
    return None


def _expiry(text: str) -> date | None:
    head = (text or "").split(" ")[0].split("-")[0]
    if len(head) != 8 or not head.isdigit():
        return None
    return date(int(head[:4]), int(head[4:6]), int(head[6:8]))


def effective_status(trade: Trade) -> str:
    """The last status the gateway itself reported for this order.

    ib_async writes statuses of its own into a Trade: "ValidationError" on warnings (399, 321, 110), and
    "Cancelled" on any error about the order — also when IB only refused a *change* (104, 105) or a cancel
    that came too late (10148), while the order still works or has filled. Those entries carry the error
    code in the trade log and are skipped here. Two errors are IB's own final word and count: 202 (the
    confirmation of a cancel) and 201 on an order that never got past PendingSubmit (a rejected placement).
    """
    entries = trade.log
    for i in range(len(entries) - 1, -1, -1):
        e = entries[i]
        if e.status not in _REAL_STATUSES:
            continue
        if not e.errorCode or e.errorCode == 202:
            return e.status
        if e.errorCode == 201 and not any(
            x.status in _REAL_STATUSES and x.status != "PendingSubmit" and not x.errorCode for x in entries[:i]
        ):
            return e.status
    status = trade.orderStatus.status
    if not entries and status in _REAL_STATUSES:
        return status  # learnt from openOrder/completedOrder: IB's own status
    return "PendingSubmit"  # nothing but local guesses: not known to be done, the safe side


def last_error_of(trade: Trade) -> str | None:
    for entry in reversed(trade.log):
        if entry.errorCode:
            return f"{entry.errorCode} {entry.message}"
    return None


def legs_of(contract: Contract, known: Mapping[int, QualifiedOption] | None = None) -> tuple[ComboLeg, ...] | None:
    """The legs of a BAG contract; right/strike/localSymbol come from `known` (the gateway's qualified options)."""
    if contract.secType != "BAG":
        return None
    out = []
    for leg in contract.comboLegs or []:
        q = (known or {}).get(leg.conId)
        if q is not None:
            out.append(ComboLeg(leg.conId, leg.action, q.right, q.strike, q.local_symbol))
        else:
            out.append(ComboLeg(leg.conId, leg.action, "?", 0.0, str(leg.conId)))
    return tuple(out)


def from_ib_trade(
    trade: Trade,
    *,
    known: Mapping[int, QualifiedOption] | None = None,
    last_error: str | None = None,
) -> OrderState:
    o = trade.order
    s = trade.orderStatus
    order_type = o.orderType or ""
    quantity = num(o.totalQuantity) or 0.0
    filled = num(s.filled) or 0.0
    if filled == 0.0:
        # completedOrder carries the fill on the order, not in an orderStatus.
        filled = num(o.filledQuantity) or 0.0
    status = OrderStatus.parse(effective_status(trade))
    remaining = num(s.remaining) or 0.0
    if status not in DONE_STATUSES and remaining == 0.0 and filled < quantity:
        # no orderStatus yet (a fresh order, or one learnt from openOrder): nothing has filled that we know of
        remaining = quantity - filled
    avg = num(s.avgFillPrice) if filled > 0 else None
    limit = num(o.lmtPrice) if order_type in ("LMT", "STP LMT") else None
    aux = num(o.auxPrice) if order_type in ("STP", "STP LMT", "TRAIL") else None
    return OrderState(
        order_id=int(o.orderId or s.orderId or 0),
        perm_id=int(o.permId or s.permId or 0),
        order_ref=o.orderRef or "",
        action=o.action,
        order_type=order_type,
        quantity=quantity,
        limit_price=limit,
        aux_price=aux,
        status=status,
        filled=filled,
        remaining=remaining,
        avg_fill_price=avg,
        oca_group=o.ocaGroup or None,
        last_error=last_error if last_error is not None else last_error_of(trade),
        legs=legs_of(trade.contract, known),
        client_id=int(o.clientId or s.clientId or 0),
    )


def _aware(at: object) -> datetime:
    if isinstance(at, datetime):
        return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    if isinstance(at, date):
        return datetime(at.year, at.month, at.day, tzinfo=NEW_YORK)
    raise ValueError(f"not a time: {at!r}")


def from_ib_fill(fill: Fill) -> Execution:
    """An execution with its commission, or commission None while IB's commissionReport has not arrived."""
    c = fill.contract
    e = fill.execution
    report = fill.commissionReport
    commission = num(report.commission) if report is not None and report.execId else None
    is_opt = c.secType == "OPT"
    return Execution(
        exec_id=e.execId,
        order_id=int(e.orderId or 0),
        perm_id=int(e.permId or 0),
        order_ref=e.orderRef or "",
        con_id=int(c.conId or 0),
        local_symbol=c.localSymbol or "",
        sec_type=c.secType,
        right=_right(c.right) if is_opt else None,
        strike=num(c.strike) if is_opt else None,
        side=e.side,
        shares=float(e.shares),
        price=float(e.price),
        at=_aware(e.time),
        commission=commission,
    )


def from_ib_position(p: IbPosition) -> Position:
    c = p.contract
    is_opt = c.secType == "OPT"
    return Position(
        con_id=int(c.conId or 0),
        local_symbol=c.localSymbol or "",
        sec_type=c.secType,
        right=_right(c.right) if is_opt else None,
        strike=num(c.strike) if is_opt else None,
        expiry=_expiry(c.lastTradeDateOrContractMonth),
        quantity=float(p.position),
        avg_cost=float(p.avgCost),
    )


def quote_from_ticker(ticker: Ticker, right: str, strike: float) -> OptionQuote:
    c = ticker.contract or Contract()
    g = ticker.modelGreeks
    return OptionQuote(
        con_id=int(c.conId or 0),
        right=right,
        strike=float(strike),
        bid=quote_price(ticker.bid),
        ask=quote_price(ticker.ask),
        delta=num(g.delta) if g is not None else None,
        implied_vol=num(g.impliedVol) if g is not None else None,
        und_price=num(g.undPrice) if g is not None else None,
        local_symbol=c.localSymbol or "",
    )


def index_price(ticker: Ticker) -> float | None:
    """An index's level: last, else the midpoint of a real bid/ask, else yesterday's close."""
    last = num(ticker.last)
    if last is not None and last > 0:
        return last
    bid, ask = quote_price(ticker.bid), quote_price(ticker.ask)
    if bid is not None and ask is not None and ask >= bid > 0:
        return (bid + ask) / 2.0
    close = num(ticker.close)
    return close if close is not None and close > 0 else None


_ACCOUNT_TAGS = {"NetLiquidation": "net", "AvailableFunds": "avail", "BuyingPower": "bp"}


def account_values_from(values: Iterable[AccountValue], account: str) -> AccountValues:
    """NetLiquidation/AvailableFunds/BuyingPower of one account, preferring USD, then BASE, then any currency."""
    found: dict[str, dict[str, float]] = {}
    for v in values:
        if v.account != account or v.tag not in _ACCOUNT_TAGS:
            continue
        f = num(v.value)
        if f is not None:
            found.setdefault(_ACCOUNT_TAGS[v.tag], {})[v.currency or ""] = f

    def pick(key: str) -> float | None:
        by_ccy = found.get(key, {})
        for ccy in ("USD", "BASE", ""):
            if ccy in by_ccy:
                return by_ccy[ccy]
        return next(iter(by_ccy.values()), None)

    return AccountValues(account, pick("net"), pick("avail"), pick("bp"))


def bar_time(value: object) -> datetime:
    """A historical bar's time as aware UTC; a naive IB time is New York wall time (icbot asks in ET)."""
    if isinstance(value, datetime):
        at = value if value.tzinfo is not None else value.replace(tzinfo=NEW_YORK)
        return at.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=NEW_YORK).astimezone(UTC)
    raise ValueError(f"not a bar time: {value!r}")


def bars_from_ib(bars: Iterable[BarData]) -> list[tuple[datetime, float, float, float, float]]:
    return [(bar_time(b.date), float(b.open), float(b.high), float(b.low), float(b.close)) for b in bars]
