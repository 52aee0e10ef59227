"""Outgoing (server→client) messages with the exact field order of server version 178 (176–177 where noted).

Each builder returns the message's fields; the server frames them. Layouts follow reference
tws-protocol.md §2.2–§2.6 and were checked against both decoders (ib_async 2.1 `decoder.py` and ibapi
10.x `decoder.py`/`orderdecoder.py`); the conformance tests feed every builder through both. Traps kept
in mind: tickPrice has exactly 7 fields, tickOptionComputation 12, commissionReport 8, position 16,
updatePortfolio 20; ibapi drops "wrap"-style messages whose count is off by one; openOrder's
deltaNeutralOrderType "None" must be followed by its 8 fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from icbot.sim.protocol import UNSET_DOUBLE, UNSET_INTEGER, fmt_float, fmt_price, fmt_qty

Fields = list[object]
U = UNSET_DOUBLE
UI = UNSET_INTEGER

BAG_CON_ID = 28812380  # IB's generic USD combo conId, as echoed for BAG orders and executions


# -- handshake and session -------------------------------------------------------------------------------
def handshake_reply(server_version: int, conn_time: str) -> Fields:
    return [server_version, conn_time]


def managed_accounts(accounts: Sequence[str]) -> Fields:
    return [15, 1, ",".join(accounts)]


def next_valid_id(order_id: int) -> Fields:
    return [9, 1, order_id]


def error(req_id: int, code: int, text: str, server_version: int = 178) -> Fields:
    out: Fields = [4, 2, req_id, code, text]
    if server_version >= 166:
        out.append("")  # advancedOrderRejectJson
    return out


def current_time(epoch_seconds: int) -> Fields:
    return [49, 1, epoch_seconds]


# -- contracts ---------------------------------------------------------------------------------------------
@dataclass(slots=True)
class ContractInfo:
    """What the simulator knows about a tradable contract; enough for contractData, positions, executions."""

    con_id: int
    symbol: str
    sec_type: str
    last_trade_date: str = ""
    strike: float = 0.0
    right: str = ""
    multiplier: str = ""
    exchange: str = "SMART"
    primary_exchange: str = ""
    currency: str = "USD"
    local_symbol: str = ""
    trading_class: str = ""
    # contract-details-only fields
    market_name: str = ""
    min_tick: float = 0.01
    order_types: str = ""
    valid_exchanges: str = ""
    under_con_id: int = 0
    long_name: str = ""
    contract_month: str = ""
    time_zone_id: str = "US/Eastern"
    trading_hours: str = ""
    liquid_hours: str = ""
    under_symbol: str = ""
    under_sec_type: str = ""
    market_rule_ids: str = ""
    real_expiration_date: str = ""
    legs_descrip: str = ""
    legs: list[tuple[int, int, str, str]] = field(default_factory=list)  # (conId, ratio, action, exchange)


def contract_data(req_id: int, c: ContractInfo) -> Fields:
    """contractData (10) at sv ≥ 164: no version field, no mdSizeMultiplier, size rules at the end."""
    return [
        10,
        req_id,
        c.symbol,
        c.sec_type,
        c.last_trade_date,
        fmt_float(c.strike),
        c.right,
        c.exchange,
        c.currency,
        c.local_symbol,
        c.market_name,
        c.trading_class,
        c.con_id,
        fmt_float(c.min_tick),
        c.multiplier,
        c.order_types,
        c.valid_exchanges,
        1,  # priceMagnifier
        c.under_con_id,
        c.long_name,
        c.primary_exchange,
        c.contract_month,
        "",  # industry
        "",  # category
        "",  # subcategory
        c.time_zone_id,
        c.trading_hours,
        c.liquid_hours,
        "",  # evRule
        "",  # evMultiplier
        0,  # secIdList count
        0,  # aggGroup
        c.under_symbol,
        c.under_sec_type,
        c.market_rule_ids,
        c.real_expiration_date,
        "",  # stockType
        "1",  # minSize
        "1",  # sizeIncrement
        "1",  # suggestedSizeIncrement
    ]


def contract_data_end(req_id: int) -> Fields:
    return [52, 1, req_id]


def sec_def_opt_params(
    req_id: int,
    exchange: str,
    under_con_id: int,
    trading_class: str,
    multiplier: str,
    expirations: Sequence[str],
    strikes: Sequence[float],
) -> Fields:
    return [
        75,
        req_id,
        exchange,
        under_con_id,
        trading_class,
        multiplier,
        len(expirations),
        *expirations,
        len(strikes),
        *[fmt_float(k) for k in strikes],
    ]


def sec_def_opt_params_end(req_id: int) -> Fields:
    return [76, req_id]


# -- market data ---------------------------------------------------------------------------------------
def market_data_type(req_id: int, kind: int) -> Fields:
    return [58, 1, req_id, kind]


def tick_req_params(req_id: int, min_tick: float, bbo_exchange: str, snapshot_permissions: int) -> Fields:
    return [81, req_id, fmt_float(min_tick), bbo_exchange, snapshot_permissions]


def tick_price(req_id: int, tick_type: int, price: float, size: float, attr_mask: int = 0) -> Fields:
    return [1, 6, req_id, tick_type, fmt_price(price), fmt_qty(size), attr_mask]


def tick_size(req_id: int, tick_type: int, size: float) -> Fields:
    return [2, 6, req_id, tick_type, fmt_qty(size)]


def tick_generic(req_id: int, tick_type: int, value: float) -> Fields:
    return [45, 6, req_id, tick_type, fmt_float(value)]


def tick_string(req_id: int, tick_type: int, value: str) -> Fields:
    return [46, 6, req_id, tick_type, value]


def tick_option_computation(
    req_id: int,
    tick_type: int,
    implied_vol: float,
    delta: float,
    opt_price: float,
    pv_dividend: float,
    gamma: float,
    vega: float,
    theta: float,
    und_price: float,
    tick_attrib: int = 1,
) -> Fields:
    """tickOptionComputation (21): no version field since sv 156; exactly 12 fields."""
    return [
        21,
        req_id,
        tick_type,
        tick_attrib,
        fmt_float(implied_vol),
        fmt_float(delta),
        fmt_float(opt_price),
        fmt_float(pv_dividend),
        fmt_float(gamma),
        fmt_float(vega),
        fmt_float(theta),
        fmt_float(und_price),
    ]


def tick_snapshot_end(req_id: int) -> Fields:
    return [57, 1, req_id]


BarRow = tuple[str, float, float, float, float, float, float, int]  # date, o, h, l, c, volume, wap, count


def historical_data(req_id: int, start: str, end: str, bars: Sequence[BarRow]) -> Fields:
    """historicalData (17) at sv < 196: the end marker is implicit (start/end strings lead the bars)."""
    out: Fields = [17, req_id, start, end, len(bars)]
    for date, o, h, low, c, volume, wap, count in bars:
        out += [
            date,
            fmt_price(o),
            fmt_price(h),
            fmt_price(low),
            fmt_price(c),
            fmt_float(volume),
            fmt_float(wap),
            count,
        ]
    return out


# -- orders ---------------------------------------------------------------------------------------------
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


# -- portfolio and account ------------------------------------------------------------------------------
def position(account: str, c: ContractInfo, qty: float, avg_cost: float) -> Fields:
    return [
        61,
        3,
        account,
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
        fmt_qty(qty),
        fmt_float(round(avg_cost, 4)),
    ]


def position_end() -> Fields:
    return [62, 1]


def update_portfolio(
    c: ContractInfo,
    qty: float,
    market_price: float,
    market_value: float,
    avg_cost: float,
    unrealized: float,
    realized: float,
    account: str,
) -> Fields:
    return [
        7,
        8,
        c.con_id,
        c.symbol,
        c.sec_type,
        c.last_trade_date,
        fmt_float(c.strike),
        c.right,
        c.multiplier,
        c.primary_exchange,
        c.currency,
        c.local_symbol,
        c.trading_class,
        fmt_qty(qty),
        fmt_float(round(market_price, 4)),
        fmt_float(round(market_value, 2)),
        fmt_float(round(avg_cost, 4)),
        fmt_float(round(unrealized, 2)),
        fmt_float(round(realized, 2)),
        account,
    ]


def account_value(key: str, value: str, currency: str, account: str) -> Fields:
    return [6, 2, key, value, currency, account]


def account_time(hhmm: str) -> Fields:
    return [8, 1, hhmm]


def account_download_end(account: str) -> Fields:
    return [54, 1, account]


def account_summary(req_id: int, account: str, tag: str, value: str, currency: str) -> Fields:
    return [63, 1, req_id, account, tag, value, currency]


def account_summary_end(req_id: int) -> Fields:
    return [64, 1, req_id]


def account_update_multi(req_id: int, account: str, model_code: str, key: str, value: str, currency: str) -> Fields:
    return [73, 1, req_id, account, model_code, key, value, currency]


def account_update_multi_end(req_id: int) -> Fields:
    return [74, 1, req_id]
