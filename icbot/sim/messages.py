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
    last_trade_time: str = ""  # contract details only: "HH:MM:SS", sent after the date with the time zone
    legs_descrip: str = ""
    legs: list[tuple[int, int, str, str]] = field(default_factory=list)  # (conId, ratio, action, exchange)


def contract_data(req_id: int, c: ContractInfo) -> Fields:
    """contractData (10) at sv ≥ 164: no version field, no mdSizeMultiplier, size rules at the end."""
    return [
        10,
        req_id,
        c.symbol,
        c.sec_type,
        f"{c.last_trade_date} {c.last_trade_time} {c.time_zone_id}" if c.last_trade_time else c.last_trade_date,
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
