"""Order messages (openOrder, orderStatus, completedOrder, execDetails, commissionReport) at server version 178.

Split from messages.py because these are the long, trap-laden layouts (reference tws-protocol.md §2.4–§2.6):
openOrder is 172 fields for a 4-leg BAG, its deltaNeutralOrderType "None" must be followed by 8 fields,
completedOrder carries only 4 of them, execDetails gains pendingPriceRevision at 178, and commissionReport
must be exactly 8 fields. Both clients' decoders check every builder here (tests/sim/test_wire.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from icbot.sim.messages import UI, ContractInfo, Fields, U
from icbot.sim.protocol import fmt_float, fmt_price, fmt_qty


@dataclass(slots=True)
class OrderView:
    """The order as the server echoes it in openOrder / completedOrder."""

    order_id: int
    client_id: int
    perm_id: int
    contract: ContractInfo
    action: str
    total_qty: float
    order_type: str
    lmt_price: float | None
    aux_price: float | None
    tif: str
    oca_group: str
    oca_type: int
    account: str
    open_close: str
    order_ref: str
    good_after_time: str
    good_till_date: str
    parent_id: int
    trigger_method: int
    outside_rth: bool
    what_if: bool
    status: str
    leg_prices: list[float | None] = field(default_factory=list)
    smart_combo_params: list[tuple[str, str]] = field(default_factory=list)
    conditions: list[tuple[int, str, list[str]]] = field(default_factory=list)
    conditions_ignore_rth: bool = False
    conditions_cancel_order: bool = False
    filled: float = 0.0
    completed_time: str = ""
    completed_status: str = ""


@dataclass(slots=True)
class WhatIfState:
    init_margin_before: float
    maint_margin_before: float
    equity_with_loan_before: float
    init_margin_change: float
    maint_margin_change: float
    equity_with_loan_change: float
    init_margin_after: float
    maint_margin_after: float
    equity_with_loan_after: float
    commission: float
    min_commission: float
    max_commission: float
    currency: str = "USD"
    warning: str = ""


def _contract11(c: ContractInfo) -> Fields:
    """conId … tradingClass without primaryExchange: the contract block of openOrder / execDetails."""
    return [
        c.con_id,
        c.symbol,
        c.sec_type,
        c.last_trade_date,
        fmt_float(c.strike),
        c.right,
        c.multiplier,
        c.exchange,
        c.currency,
        c.local_symbol,
        c.trading_class,
    ]


def _price_or_zero(x: float | None) -> str:
    return fmt_price(0.0 if x is None else x)


def _combo_block(o: OrderView, *, open_order: bool) -> Fields:
    c = o.contract
    out: Fields = [c.legs_descrip, len(c.legs)]
    for con_id, ratio, action, exchange in c.legs:
        out += [con_id, ratio, action, exchange, 0, 0, "", -1]
    out.append(len(o.leg_prices))
    out += [fmt_price(U if p is None else p) for p in o.leg_prices]
    out.append(len(o.smart_combo_params))
    for tag, value in o.smart_combo_params:
        out += [tag, value]
    return out


def _conditions_block(o: OrderView) -> Fields:
    out: Fields = [len(o.conditions)]
    for cond_type, conj, values in o.conditions:
        out += [cond_type, conj, *values]
    if o.conditions:
        out += [o.conditions_ignore_rth, o.conditions_cancel_order]
    return out


def open_order(o: OrderView, server_version: int = 178, what_if: WhatIfState | None = None) -> Fields:
    """openOrder (5), no version field since sv 145; 172 fields after the msgId for a 4-leg BAG at 178."""
    out: Fields = [5, o.order_id, *_contract11(o.contract)]
    out += [
        o.action,
        fmt_qty(o.total_qty),
        o.order_type,
        _price_or_zero(o.lmt_price),
        _price_or_zero(o.aux_price),
        o.tif,
        o.oca_group,
        o.account,
        o.open_close,
        0,  # origin
        o.order_ref,
        o.client_id,
        o.perm_id,
        o.outside_rth,
        0,  # hidden
        "0.0",  # discretionaryAmt
        o.good_after_time,
        "",  # sharesAllocation (deprecated)
        "",  # faGroup
        "",  # faMethod
        "",  # faPercentage
    ]
    if server_version < 177:
        out.append("")  # faProfile
    out += [
        "",  # modelCode
        o.good_till_date,
        "",  # rule80A
        U,  # percentOffset
        "",  # settlingFirm
        0,  # shortSaleSlot
        "",  # designatedLocation
        -1,  # exemptCode
        0,  # auctionStrategy
        U,  # startingPrice
        U,  # stockRefPrice
        U,  # delta
        U,  # stockRangeLower
        U,  # stockRangeUpper
        0,  # displaySize
        0,  # blockOrder
        0,  # sweepToFill
        0,  # allOrNone
        UI,  # minQty
        o.oca_type,
        0,  # eTradeOnly
        0,  # firmQuoteOnly
        U,  # nbboPriceCap
        o.parent_id,
        o.trigger_method,
        U,  # volatility
        0,  # volatilityType
        "None",  # deltaNeutralOrderType, as TWS sends it, so its 8 fields follow
        "",  # deltaNeutralAuxPrice
        "0",  # deltaNeutralConId
        "",  # deltaNeutralSettlingFirm
        "",  # deltaNeutralClearingAccount
        "",  # deltaNeutralClearingIntent
        "?",  # deltaNeutralOpenClose
        "0",  # deltaNeutralShortSale
        "0",  # deltaNeutralShortSaleSlot
        "",  # deltaNeutralDesignatedLocation
        0,  # continuousUpdate
        0,  # referencePriceType
        U,  # trailStopPrice
        U,  # trailingPercent
        U,  # basisPoints
        UI,  # basisPointsType
    ]
    out += _combo_block(o, open_order=True)
    out += [
        UI,  # scaleInitLevelSize
        UI,  # scaleSubsLevelSize
        U,  # scalePriceIncrement (unset: no scale fields follow)
        "",  # hedgeType
        0,  # optOutSmartRouting
        "",  # clearingAccount
        "IB",  # clearingIntent
        0,  # notHeld
        0,  # deltaNeutralContract present
        "",  # algoStrategy
        0,  # solicited
        o.what_if,
        o.status,
    ]
    if what_if is None:
        out += [U] * 9 + [U, U, U, "", ""]
    else:
        w = what_if
        out += [
            fmt_float(round(v, 2))
            for v in (
                w.init_margin_before,
                w.maint_margin_before,
                w.equity_with_loan_before,
                w.init_margin_change,
                w.maint_margin_change,
                w.equity_with_loan_change,
                w.init_margin_after,
                w.maint_margin_after,
                w.equity_with_loan_after,
            )
        ]
        out += [fmt_float(round(w.commission, 4)), w.min_commission, w.max_commission, w.currency, w.warning]
    out += [0, 0]  # randomizeSize, randomizePrice
    out += _conditions_block(o)
    out += [
        "None",  # adjustedOrderType
        U,  # triggerPrice
        U,  # trailStopPrice
        U,  # lmtPriceOffset
        U,  # adjustedStopPrice
        U,  # adjustedStopLimitPrice
        U,  # adjustedTrailingAmount
        0,  # adjustableTrailingUnit
        "",  # softDollarTier name
        "",  # softDollarTier value
        "",  # softDollarTier displayName
        U,  # cashQty
        0,  # dontUseAutoPriceForHedge
        0,  # isOmsContainer
        0,  # discretionaryUpToLimitPrice
        0,  # usePriceMgmtAlgo
        UI,  # duration
        UI,  # postToAts
        0,  # autoCancelParent
        UI,  # minTradeQty
        UI,  # minCompeteSize
        U,  # competeAgainstBestOffset
        U,  # midOffsetAtWhole
        U,  # midOffsetAtHalf
    ]
    return out


def open_order_end() -> Fields:
    return [53, 1]


def order_status(
    order_id: int,
    status: str,
    filled: float,
    remaining: float,
    avg_fill_price: float,
    perm_id: int,
    parent_id: int,
    last_fill_price: float,
    client_id: int,
    why_held: str = "",
    mkt_cap_price: float = 0.0,
) -> Fields:
    """orderStatus (3): no version field since sv 131 (MARKET_CAP_PRICE)."""
    return [
        3,
        order_id,
        status,
        fmt_qty(filled),
        fmt_qty(remaining),
        fmt_price(avg_fill_price),
        perm_id,
        parent_id,
        fmt_price(last_fill_price),
        client_id,
        why_held,
        fmt_float(mkt_cap_price),
    ]


def completed_order(o: OrderView, server_version: int = 178) -> Fields:
    """completedOrder (101) at sv 170–178: like openOrder but without orderId/clientId, with completion info."""
    out: Fields = [101, *_contract11(o.contract)]
    out += [
        o.action,
        fmt_qty(o.total_qty),
        o.order_type,
        _price_or_zero(o.lmt_price),
        _price_or_zero(o.aux_price),
        o.tif,
        o.oca_group,
        o.account,
        o.open_close,
        0,  # origin
        o.order_ref,
        o.perm_id,
        o.outside_rth,
        0,  # hidden
        "0.0",  # discretionaryAmt
        o.good_after_time,
        "",  # faGroup
        "",  # faMethod
        "",  # faPercentage
    ]
    if server_version < 177:
        out.append("")  # faProfile
    out += [
        "",  # modelCode
        o.good_till_date,
        "",  # rule80A
        U,  # percentOffset
        "",  # settlingFirm
        0,  # shortSaleSlot
        "",  # designatedLocation
        -1,  # exemptCode
        U,  # startingPrice
        U,  # stockRefPrice
        U,  # delta
        U,  # stockRangeLower
        U,  # stockRangeUpper
        0,  # displaySize
        0,  # sweepToFill
        0,  # allOrNone
        UI,  # minQty
        o.oca_type,
        o.trigger_method,
        U,  # volatility
        0,  # volatilityType
        "None",  # deltaNeutralOrderType; completedOrder carries 4 delta-neutral fields after it
        "",  # deltaNeutralAuxPrice
        "0",  # deltaNeutralConId
        "0",  # deltaNeutralShortSale
        "0",  # deltaNeutralShortSaleSlot
        "",  # deltaNeutralDesignatedLocation
        0,  # continuousUpdate
        0,  # referencePriceType
        U,  # trailStopPrice
        U,  # trailingPercent
    ]
    out += _combo_block(o, open_order=False)
    out += [
        UI,  # scaleInitLevelSize
        UI,  # scaleSubsLevelSize
        U,  # scalePriceIncrement
        "",  # hedgeType
        "",  # clearingAccount
        "IB",  # clearingIntent
        0,  # notHeld
        0,  # deltaNeutralContract present
        "",  # algoStrategy
        0,  # solicited
        o.status,
        0,  # randomizeSize
        0,  # randomizePrice
    ]
    out += _conditions_block(o)
    out += [
        U,  # trailStopPrice
        U,  # lmtPriceOffset
        U,  # cashQty
        0,  # dontUseAutoPriceForHedge
        0,  # isOmsContainer
        "",  # autoCancelDate
        fmt_qty(o.filled),  # filledQuantity
        0,  # refFuturesConId
        0,  # autoCancelParent
        "",  # shareholder
        0,  # imbalanceOnly
        0,  # routeMarketableToBbo
        UI,  # parentPermId
        o.completed_time,
        o.completed_status,
        UI,  # minTradeQty
        UI,  # minCompeteSize
        U,  # competeAgainstBestOffset
        U,  # midOffsetAtWhole
        U,  # midOffsetAtHalf
    ]
    return out


def completed_orders_end() -> Fields:
    return [102]


def exec_details(
    req_id: int,
    order_id: int,
    c: ContractInfo,
    exec_id: str,
    time_text: str,
    account: str,
    exchange: str,
    side: str,
    shares: float,
    price: float,
    perm_id: int,
    client_id: int,
    cum_qty: float,
    avg_price: float,
    order_ref: str,
    last_liquidity: int,
    server_version: int = 178,
) -> Fields:
    """execDetails (11): no version field since sv 136; 32 fields at 178 (pendingPriceRevision last)."""
    out: Fields = [
        11,
        req_id,
        order_id,
        *_contract11(c),
        exec_id,
        time_text,
        account,
        exchange,
        side,
        fmt_qty(shares),
        fmt_price(price),
        perm_id,
        client_id,
        0,  # liquidation
        fmt_qty(cum_qty),
        fmt_price(avg_price),
        order_ref,
        "",  # evRule
        "",  # evMultiplier
        "",  # modelCode
        last_liquidity,
    ]
    if server_version >= 178:
        out.append(0)  # pendingPriceRevision
    return out


def exec_details_end(req_id: int) -> Fields:
    return [55, 1, req_id]


def commission_report(exec_id: str, commission: float, currency: str, realized_pnl: float | None) -> Fields:
    """commissionReport (59): exactly 8 fields; realizedPNL unset on opening executions."""
    pnl = U if realized_pnl is None else round(realized_pnl, 2)
    return [59, 1, exec_id, fmt_float(round(commission, 4)), currency, fmt_float(pnl), U, ""]
