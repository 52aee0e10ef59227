"""Request handlers: one function per TWS message id the simulator answers (reference tws-protocol.md §2.1).

Each reads its request, asks the catalog / market / engine, and answers with the messages and error codes a
real gateway uses. ib_async's connect burst (61, 5, 99, 6, 76, 7) is answered in full so `connectAsync`
returns without waiting on any timeout.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from icbot.sim import marketdata as md
from icbot.sim import messages as msg
from icbot.sim import order_messages as om
from icbot.sim.conventions import ROOT_BY_SYMBOL
from icbot.sim.ibtime import format_ib_time, parse_bar_size, parse_duration, parse_ib_time
from icbot.sim.market import MarketDataError
from icbot.sim.requests import (
    parse_place_order,
    parse_req_contract_details,
    parse_req_executions,
    parse_req_historical,
    parse_req_mkt_data,
)

if TYPE_CHECKING:
    from icbot.sim.connection import Connection
    from icbot.sim.server import SimServer

Handler = Callable[["SimServer", "Connection", list[str], datetime], None]

NAMES = {
    1: "reqMktData",
    2: "cancelMktData",
    3: "placeOrder",
    4: "cancelOrder",
    5: "reqOpenOrders",
    6: "reqAccountUpdates",
    7: "reqExecutions",
    8: "reqIds",
    9: "reqContractDetails",
    15: "reqAutoOpenOrders",
    16: "reqAllOpenOrders",
    17: "reqManagedAccts",
    20: "reqHistoricalData",
    25: "cancelHistoricalData",
    49: "reqCurrentTime",
    58: "reqGlobalCancel",
    59: "reqMarketDataType",
    61: "reqPositions",
    62: "reqAccountSummary",
    63: "cancelAccountSummary",
    64: "cancelPositions",
    71: "startApi",
    76: "reqAccountUpdatesMulti",
    77: "cancelAccountUpdatesMulti",
    78: "reqSecDefOptParams",
    99: "reqCompletedOrders",
}
NO_SECURITY = "No security definition has been found for the request"
SUMMARY_ALIASES = {"ReqTEquity": "RegTEquity", "ReqTMargin": "RegTMargin"}
NO_CURRENCY_TAGS = frozenset({"Cushion", "LookAheadNextChange", "DayTradesRemaining", "Leverage", "HighestSeverity"})


def handle_start_api(server: SimServer, conn: Connection, fields: list[str]) -> None:
    client_id = int(fields[2]) if len(fields) > 2 and fields[2].strip() else 0
    if any(c is not conn and c.client_id == client_id for c in server.connections):
        conn.error(-1, 326, "Unable to connect as the client id is already in use. Retry with a unique client id.")
        conn.abort()
        return
    conn.client_id = client_id
    server.greet(conn)


# -- market data -----------------------------------------------------------------------------------------
def req_mkt_data(server: SimServer, conn: Connection, fields: list[str], now: datetime) -> None:
    r = parse_req_mkt_data(fields)
    c = r.contract
    catalog = server.engine.catalog
    if r.req_id in conn.subs or r.req_id in conn.snapshots:
        conn.error(r.req_id, 322, f"Error processing request.-'bW' : cause - Duplicate ticker id {r.req_id}")
        return
    if conn.data_lost:
        server.stats.requests_after_data_lost += 1
    if c.sec_type == "BAG":
        if not c.legs or any(leg.con_id not in catalog.options for leg in c.legs):
            conn.error(r.req_id, 200, NO_SECURITY)
            return
        legs = [(leg.con_id, leg.ratio if leg.action.upper() == "BUY" else -leg.ratio) for leg in c.legs]
        root = catalog.bag_root(c.legs)
        tick = (ROOT_BY_SYMBOL[root].combo_tick if root else None) or server.config.combo_tick
        sub = md.Subscription(r.req_id, "bag", msg.BAG_CON_ID, legs, r.snapshot, min_tick=tick)
    else:
        found = {info.con_id: info for info in catalog.resolve(c)}
        if len(found) != 1:
            conn.error(r.req_id, 200, NO_SECURITY)
            return
        info = next(iter(found.values()))
        kind = "index" if info.sec_type == "IND" else "option"
        sub = md.Subscription(r.req_id, kind, info.con_id, snapshot=r.snapshot, min_tick=info.min_tick)
    if server.faults.competing(now):
        conn.error(r.req_id, 10197, "No market data during competing live session")
        return
    if server.faults.market_data_blocked(now):
        if conn.md_type in (3, 4):
            conn.error(r.req_id, 10167, "Requested market data is not subscribed. Displaying delayed market data.")
            sub.delayed = True
        else:
            conn.error(r.req_id, 354, "Requested market data is not subscribed.")
            return
    if not r.snapshot and server.md_lines() >= server.config.max_md_lines:  # per account: every connection's
        conn.error(r.req_id, 101, "Max number of tickers has been reached.")
        return
    greeks_ok = not server.faults.greeks_blocked(now)
    if r.snapshot:
        server.start_snapshot(conn, sub, now)
        return
    conn.subs[r.req_id] = sub
    server.stats.max_md_lines = max(server.stats.max_md_lines, server.md_lines())
    if not server.in_outage:
        server.push_subscription(conn, sub, now, greeks_ok=greeks_ok)


def cancel_mkt_data(server: SimServer, conn: Connection, fields: list[str], now: datetime) -> None:
    conn.subs.pop(int(fields[2]), None)
    conn.snapshots.pop(int(fields[2]), None)


def req_market_data_type(server: SimServer, conn: Connection, fields: list[str], now: datetime) -> None:
    conn.md_type = int(fields[2])


# -- contracts ---------------------------------------------------------------------------------------------
def req_contract_details(server: SimServer, conn: Connection, fields: list[str], now: datetime) -> None:
    r = parse_req_contract_details(fields)
    if r.contract.sec_type == "BAG":
        conn.error(
            r.req_id, 321, "Error validating request.-'bI' : cause - 'BAG' isn't supported for contract data request"
        )
        return
    found = server.engine.catalog.resolve(r.contract)
    if not found:
        conn.error(r.req_id, 200, NO_SECURITY)
        return
    for info in found:
        conn.send(msg.contract_data(r.req_id, server.engine.catalog.details(info)))
    conn.send(msg.contract_data_end(r.req_id))


def req_sec_def_opt_params(server: SimServer, conn: Connection, fields: list[str], now: datetime) -> None:
    req_id = int(fields[1])
    symbol = fields[2].upper() if len(fields) > 2 else ""
    sec_type = fields[4].upper() if len(fields) > 4 else ""
    con_id = int(fields[5] or 0) if len(fields) > 5 else 0
    root = ROOT_BY_SYMBOL.get(symbol)
    if root is not None and sec_type in ("IND", "") and con_id in (0, root.index_con_id):
        for exchange, trading_class, expirations, strikes in server.engine.catalog.option_chains(root.symbol):
            conn.send(
                msg.sec_def_opt_params(req_id, exchange, root.index_con_id, trading_class, "100", expirations, strikes)
            )
    conn.send(msg.sec_def_opt_params_end(req_id))


def req_historical_data(server: SimServer, conn: Connection, fields: list[str], now: datetime) -> None:
    r = parse_req_historical(fields)
    found = {i.con_id: i for i in server.engine.catalog.resolve(r.contract)} if r.contract.sec_type != "BAG" else {}
    if len(found) != 1:
        conn.error(r.req_id, 200, NO_SECURITY)
        return
    info = next(iter(found.values()))
    try:
        end = now if not r.end.strip() else parse_ib_time(r.end)
        assert end is not None
        start = end - parse_duration(r.duration)
        bar_seconds = parse_bar_size(r.bar_size)
    except (ValueError, AssertionError) as exc:
        conn.error(r.req_id, 321, f"Error validating request.-'bX' : cause - {exc}")
        return
    what = r.what_to_show.upper()
    try:
        bars = server.market.bars(info.con_id, what, start, end, now, bar_seconds)
    except MarketDataError as exc:
        conn.error(r.req_id, 162, f"Historical Market Data Service error message:{exc}")
        return
    if not bars:
        conn.error(
            r.req_id,
            162,
            f"Historical Market Data Service error message:HMDS query returned no data: {info.local_symbol}@SMART "
            f"{what}",
        )
        return
    rows: list[msg.BarRow] = []
    for b in bars:
        stamp = str(int(b.time.timestamp())) if r.format_date == 2 else format_ib_time(b.time)
        if bar_seconds >= 86400 and r.format_date != 2:
            stamp = b.time.strftime("%Y%m%d")
        rows.append((stamp, b.open, b.high, b.low, b.close, b.volume, b.wap, b.bar_count))
    conn.send(msg.historical_data(r.req_id, format_ib_time(start), format_ib_time(end), rows))


def cancel_historical(server: SimServer, conn: Connection, fields: list[str], now: datetime) -> None:
    """Historical requests are answered at once, so there is never anything left to cancel."""


# -- orders --------------------------------------------------------------------------------------------
READ_ONLY_TEXT = "Error validating request.-'bW' : cause - The API interface is currently in Read-Only mode."


def place_order(server: SimServer, conn: Connection, fields: list[str], now: datetime) -> None:
    req = parse_place_order(fields, conn.version)
    assert conn.client_id is not None
    engine = server.engine
    if server.faults.read_only(now) and not req.what_if:
        conn.error(req.order_id, 321, READ_ONLY_TEXT)
        return
    reject = None
    drop = False
    if not req.what_if:
        existing = engine.orders.get((conn.client_id, req.order_id))
        if req.transmit and (existing is None or not existing.transmitted):
            reject = server.faults.take_reject(now)
        drop = server.faults.order_arrived(now)
    engine.place(conn.client_id, req, now, reject=reject)
    if drop:
        conn.abort()  # the order lives on at the gateway; its acknowledgement is lost with the socket


def cancel_order(server: SimServer, conn: Connection, fields: list[str], now: datetime) -> None:
    assert conn.client_id is not None
    order_id = int(fields[2])
    if server.engine.is_working(conn.client_id, order_id) and server.faults.take_fill_on_cancel(now):
        server.engine.fill_at_limit(conn.client_id, order_id, now)
    server.engine.cancel(conn.client_id, order_id, now)


def req_global_cancel(server: SimServer, conn: Connection, fields: list[str], now: datetime) -> None:
    server.engine.global_cancel(now)


def _send_open_orders(server: SimServer, conn: Connection, client_id: int | None) -> None:
    engine = server.engine
    for o in engine.open_orders(client_id):
        conn.send(om.open_order(engine.view(o), conn.version))
        conn.send(
            om.order_status(
                o.order_id,
                o.status,
                o.filled,
                o.remaining,
                o.avg_price,
                o.perm_id,
                o.req.parent_id,
                o.last_price,
                o.client_id,
                o.held_reason(),
            )
        )
    conn.send(om.open_order_end())


def req_open_orders(server: SimServer, conn: Connection, fields: list[str], now: datetime) -> None:
    server.engine.advance(now)
    server.deliver()
    _send_open_orders(server, conn, conn.client_id)


def req_all_open_orders(server: SimServer, conn: Connection, fields: list[str], now: datetime) -> None:
    server.engine.advance(now)
    server.deliver()
    _send_open_orders(server, conn, None)


def req_auto_open_orders(server: SimServer, conn: Connection, fields: list[str], now: datetime) -> None:
    """Binding manual TWS orders: there are none at a simulated gateway."""


def req_completed_orders(server: SimServer, conn: Connection, fields: list[str], now: datetime) -> None:
    engine = server.engine
    for o in engine.completed_orders():
        conn.send(om.completed_order(engine.view(o), conn.version))
    conn.send(om.completed_orders_end())


def req_executions(server: SimServer, conn: Connection, fields: list[str], now: datetime) -> None:
    f = parse_req_executions(fields)
    try:
        since = parse_ib_time(f.time) if f.time.strip() else None
    except ValueError:
        since = None
    side = {"BUY": "BOT", "SELL": "SLD"}.get(f.side.upper(), f.side.upper())
    currency = server.config_currency
    for rec in server.engine.executions:
        o = rec.order
        if f.client_id and o.client_id != f.client_id:
            continue
        if f.account and f.account != (o.req.account or server.engine.account):
            continue
        if since is not None and rec.time < since:
            continue
        if f.symbol and f.symbol.upper() != rec.contract.symbol:
            continue
        if f.sec_type and f.sec_type.upper() != rec.contract.sec_type:
            continue
        if side and side != rec.side:
            continue
        conn.send(rec.fields(f.req_id, conn.version))
        report = rec.commission_fields(currency)
        if report is not None:
            conn.send(report)
    conn.send(om.exec_details_end(f.req_id))


def req_ids(server: SimServer, conn: Connection, fields: list[str], now: datetime) -> None:
    assert conn.client_id is not None
    conn.send(msg.next_valid_id(server.engine.next_valid_id(conn.client_id)))


# -- account -------------------------------------------------------------------------------------------
def req_positions(server: SimServer, conn: Connection, fields: list[str], now: datetime) -> None:
    engine = server.engine
    for con_id, pos in sorted(engine.ledger.positions.items()):
        info = engine.catalog.position_info(con_id)
        if info is not None:
            conn.send(msg.position(engine.account, info, server.reported_qty(con_id, now), pos.avg_cost))
    conn.send(msg.position_end())
    conn.positions_sub = True


def cancel_positions(server: SimServer, conn: Connection, fields: list[str], now: datetime) -> None:
    conn.positions_sub = False


def req_account_updates(server: SimServer, conn: Connection, fields: list[str], now: datetime) -> None:
    subscribe = fields[2].strip() not in ("", "0")
    account = fields[3] if len(fields) > 3 and fields[3] else server.engine.account
    if not subscribe:
        conn.account_sub = ""
        return
    if account != server.engine.account:
        conn.error(-1, 321, f"Error validating request.-'bC' : cause - Invalid account code {account}")
        return
    conn.account_sub = account
    for row in server.account_value_fields(now):
        conn.send(row)
    for con_id in server.engine.ledger.positions:
        if server.reported_qty(con_id, now):
            conn.send(server.portfolio_fields(con_id, now))
    conn.send(msg.account_time(server.clock.now_ny().strftime("%H:%M")))
    conn.send(msg.account_download_end(account))


def req_account_summary(server: SimServer, conn: Connection, fields: list[str], now: datetime) -> None:
    req_id = int(fields[2])
    tags = [t.strip() for t in (fields[4] if len(fields) > 4 else "").split(",") if t.strip()]
    values = server.engine.account_values(now)
    account = server.engine.account
    cur = server.config_currency
    for tag in tags:
        if tag == "AccountType":
            conn.send(msg.account_summary(req_id, account, tag, "INDIVIDUAL", ""))
        elif tag.startswith("$LEDGER"):
            for key in ("CashBalance", "NetLiquidation", "UnrealizedPnL", "RealizedPnL"):
                conn.send(msg.account_summary(req_id, account, key, f"{values[key]:.2f}", cur))
        else:
            key = SUMMARY_ALIASES.get(tag, tag)
            if key in values:
                currency = "" if tag in NO_CURRENCY_TAGS else cur
                conn.send(msg.account_summary(req_id, account, tag, f"{values[key]:.2f}", currency))
    conn.send(msg.account_summary_end(req_id))


def cancel_account_summary(server: SimServer, conn: Connection, fields: list[str], now: datetime) -> None:
    """Summaries are answered once; nothing streams, so nothing to stop."""


def req_account_updates_multi(server: SimServer, conn: Connection, fields: list[str], now: datetime) -> None:
    req_id = int(fields[2])
    account = fields[3] or server.engine.account
    model = fields[4] if len(fields) > 4 else ""
    cur = server.config_currency
    if account == server.engine.account:
        for key, value in server.engine.account_values(now).items():
            conn.send(msg.account_update_multi(req_id, account, model, key, f"{value:.2f}", cur))
    conn.send(msg.account_update_multi_end(req_id))


def req_managed_accts(server: SimServer, conn: Connection, fields: list[str], now: datetime) -> None:
    conn.send(msg.managed_accounts([server.engine.account]))


def req_current_time(server: SimServer, conn: Connection, fields: list[str], now: datetime) -> None:
    conn.send(msg.current_time(int(now.timestamp())))


def _noop(server: SimServer, conn: Connection, fields: list[str], now: datetime) -> None:
    return None


HANDLERS: dict[int, Handler] = {
    1: req_mkt_data,
    2: cancel_mkt_data,
    3: place_order,
    4: cancel_order,
    5: req_open_orders,
    6: req_account_updates,
    7: req_executions,
    8: req_ids,
    9: req_contract_details,
    15: req_auto_open_orders,
    16: req_all_open_orders,
    17: req_managed_accts,
    20: req_historical_data,
    25: cancel_historical,
    49: req_current_time,
    58: req_global_cancel,
    59: req_market_data_type,
    61: req_positions,
    62: req_account_summary,
    63: cancel_account_summary,
    64: cancel_positions,
    76: req_account_updates_multi,
    77: _noop,
    78: req_sec_def_opt_params,
    99: req_completed_orders,
}
