"""Parsers for the client→server requests the simulator understands, at server versions 176–178.

Field orders are those of ib_async 2.1 `client.py` and ibapi 10.x `client.py` (identical at 178, only the
unset spellings differ; see reference tws-protocol.md §2.1 and §2.3). Only what the simulator acts on is
kept; everything else is read past so the field positions stay right.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from icbot.sim.protocol import FieldReader, ProtocolError, parse_float


@dataclass(slots=True)
class LegReq:
    con_id: int
    ratio: int
    action: str  # BUY | SELL
    exchange: str
    open_close: int = 0
    short_sale_slot: int = 0
    designated_location: str = ""
    exempt_code: int = -1


@dataclass(slots=True)
class ContractReq:
    """The 12-field contract block ("C12") plus BAG legs where the request carries them."""

    con_id: int = 0
    symbol: str = ""
    sec_type: str = ""
    last_trade_date: str = ""
    strike: float = 0.0
    right: str = ""
    multiplier: str = ""
    exchange: str = ""
    primary_exchange: str = ""
    currency: str = ""
    local_symbol: str = ""
    trading_class: str = ""
    legs: list[LegReq] = field(default_factory=list)

    @property
    def norm_right(self) -> str:
        r = self.right.upper()
        return {"PUT": "P", "CALL": "C", "?": "", "0": ""}.get(r, r)


@dataclass(slots=True)
class ConditionReq:
    """One order condition, kept as its wire fields (after type and conjunction) so it can be echoed."""

    cond_type: int
    conjunction: str
    values: list[str]


CONDITION_FIELDS = {1: 5, 3: 2, 4: 2, 5: 3, 6: 4, 7: 4}  # fields after (type, conjunction)


@dataclass(slots=True)
class OrderReq:
    order_id: int
    contract: ContractReq
    action: str
    total_qty: float
    order_type: str
    lmt_price: float | None
    aux_price: float | None
    tif: str
    oca_group: str
    account: str
    open_close: str
    origin: int
    order_ref: str
    transmit: bool
    parent_id: int
    trigger_method: int
    outside_rth: bool
    leg_prices: list[float | None] = field(default_factory=list)
    smart_combo_params: list[tuple[str, str]] = field(default_factory=list)
    good_after_time: str = ""
    good_till_date: str = ""
    oca_type: int = 0
    what_if: bool = False
    conditions: list[ConditionReq] = field(default_factory=list)
    conditions_ignore_rth: bool = False
    conditions_cancel_order: bool = False


def read_contract(r: FieldReader) -> ContractReq:
    c = ContractReq()
    c.con_id = r.integer() or 0
    c.symbol = r.text()
    c.sec_type = r.text()
    c.last_trade_date = r.text()
    c.strike = r.number() or 0.0
    c.right = r.text()
    c.multiplier = r.text()
    c.exchange = r.text()
    c.primary_exchange = r.text()
    c.currency = r.text()
    c.local_symbol = r.text()
    c.trading_class = r.text()
    return c


def _read_short_legs(r: FieldReader, c: ContractReq) -> None:
    """The 4-field leg form of reqMktData / reqHistoricalData."""
    n = r.integer() or 0
    for _ in range(n):
        c.legs.append(LegReq(r.integer() or 0, r.integer() or 0, r.text(), r.text()))


@dataclass(slots=True)
class MktDataReq:
    req_id: int
    contract: ContractReq
    generic_ticks: str
    snapshot: bool
    regulatory_snapshot: bool


def parse_req_mkt_data(fields: list[str]) -> MktDataReq:
    r = FieldReader(fields, 2)  # msgId, version
    req_id = r.integer() or 0
    c = read_contract(r)
    if c.sec_type == "BAG":
        _read_short_legs(r, c)
    if r.flag():  # delta-neutral contract
        r.skip(3)
    generic = r.text()
    snapshot = r.flag()
    regulatory = r.flag() if r.remaining() else False
    return MktDataReq(req_id, c, generic, snapshot, regulatory)


@dataclass(slots=True)
class ContractDetailsReq:
    req_id: int
    contract: ContractReq
    include_expired: bool


def parse_req_contract_details(fields: list[str]) -> ContractDetailsReq:
    r = FieldReader(fields, 2)
    req_id = r.integer() or 0
    c = read_contract(r)
    include_expired = r.flag() if r.remaining() else False
    return ContractDetailsReq(req_id, c, include_expired)


@dataclass(slots=True)
class HistoricalReq:
    req_id: int
    contract: ContractReq
    end: str
    bar_size: str
    duration: str
    use_rth: bool
    what_to_show: str
    format_date: int
    keep_up_to_date: bool


def parse_req_historical(fields: list[str]) -> HistoricalReq:
    r = FieldReader(fields, 1)  # no version field since sv 124
    req_id = r.integer() or 0
    c = read_contract(r)
    r.flag()  # includeExpired
    end = r.text()
    bar_size = r.text()
    duration = r.text()
    use_rth = r.flag()
    what = r.text()
    format_date = r.integer() or 1
    if c.sec_type == "BAG":
        _read_short_legs(r, c)
    keep = r.flag() if r.remaining() else False
    return HistoricalReq(req_id, c, end, bar_size, duration, use_rth, what, format_date, keep)


@dataclass(slots=True)
class ExecFilterReq:
    req_id: int
    client_id: int
    account: str
    time: str
    symbol: str
    sec_type: str
    exchange: str
    side: str


def parse_req_executions(fields: list[str]) -> ExecFilterReq:
    r = FieldReader(fields, 2)
    req_id = r.integer() or 0
    vals = [r.text() if r.remaining() else "" for _ in range(7)]
    return ExecFilterReq(req_id, int(parse_float(vals[0]) or 0), *vals[1:])


def parse_place_order(fields: list[str], server_version: int) -> OrderReq:
    """placeOrder (msg 3) exactly as ib_async 2.1 / ibapi 10.x send it at 176–178 (reference §2.3)."""
    r = FieldReader(fields, 1)
    order_id = r.integer()
    if order_id is None:
        raise ProtocolError("placeOrder without an orderId")
    c = read_contract(r)
    r.skip(2)  # secIdType, secId
    action = r.text().upper()
    qty = r.number() or 0.0
    order_type = r.text().upper()
    lmt = r.number()
    aux = r.number()
    tif = r.text().upper()
    oca_group = r.text()
    account = r.text()
    open_close = r.text()
    origin = r.integer() or 0
    order_ref = r.text()
    transmit = r.flag()
    parent_id = r.integer() or 0
    r.skip(3)  # blockOrder, sweepToFill, displaySize
    trigger_method = r.integer() or 0
    outside_rth = r.flag()
    r.skip(1)  # hidden
    req = OrderReq(
        order_id,
        c,
        action,
        qty,
        order_type,
        lmt,
        aux,
        tif,
        oca_group,
        account,
        open_close,
        origin,
        order_ref,
        transmit,
        parent_id,
        trigger_method,
        outside_rth,
    )
    if c.sec_type == "BAG":
        for _ in range(r.integer() or 0):
            con_id, ratio, leg_action, exchange = r.integer() or 0, r.integer() or 0, r.text().upper(), r.text()
            open_close_leg, slot, location, exempt = r.integer() or 0, r.integer() or 0, r.text(), r.integer()
            c.legs.append(
                LegReq(
                    con_id,
                    ratio,
                    leg_action,
                    exchange,
                    open_close_leg,
                    slot,
                    location,
                    -1 if exempt is None else exempt,
                )
            )
        req.leg_prices = [r.number() for _ in range(r.integer() or 0)]
        req.smart_combo_params = [(r.text(), r.text()) for _ in range(r.integer() or 0)]
    r.skip(2)  # sharesAllocation, discretionaryAmt
    req.good_after_time = r.text()
    req.good_till_date = r.text()
    r.skip(3)  # faGroup, faMethod, faPercentage
    if server_version < 177:
        r.skip(1)  # faProfile
    r.skip(4)  # modelCode, shortSaleSlot, designatedLocation, exemptCode
    req.oca_type = r.integer() or 0
    # rule80A settlingFirm allOrNone minQty percentOffset eTradeOnly firmQuoteOnly nbboPriceCap auctionStrategy
    # startingPrice stockRefPrice delta stockRangeLower stockRangeUpper overridePercentageConstraints
    # volatility volatilityType
    r.skip(17)
    dn_type = r.text()
    r.skip(1)  # deltaNeutralAuxPrice
    if dn_type:
        r.skip(8)
    r.skip(6)  # continuousUpdate referencePriceType trailStopPrice trailingPercent scaleInit scaleSubs
    increment = r.number()
    if increment is not None and increment > 0:
        r.skip(7)
    r.skip(3)  # scaleTable activeStartTime activeStopTime
    if r.text():  # hedgeType
        r.skip(1)
    r.skip(4)  # optOutSmartRouting clearingAccount clearingIntent notHeld
    if r.flag():  # delta-neutral contract
        r.skip(3)
    if r.text():  # algoStrategy
        r.skip(2 * (r.integer() or 0))
    r.skip(1)  # algoId
    req.what_if = r.flag()
    r.skip(4)  # orderMiscOptions solicited randomizeSize randomizePrice
    if order_type in ("PEG BENCH", "PEGBENCH"):
        r.skip(5)
    n_cond = r.integer() or 0
    for _ in range(n_cond):
        cond_type = r.integer() or 0
        conj = r.text()
        n = CONDITION_FIELDS.get(cond_type)
        if n is None:
            raise ProtocolError(f"unknown order condition type {cond_type}")
        req.conditions.append(ConditionReq(cond_type, conj, [r.text() for _ in range(n)]))
    if n_cond:
        req.conditions_ignore_rth = r.flag()
        req.conditions_cancel_order = r.flag()
    return req
