"""The simulator's security master: SPX, XSP and VIX indices and today's SPXW and XSP chains, as IB describes them.

Resolves the contract a client sends (by conId, by localSymbol, or by symbol/secType/expiry/strike/right/
tradingClass with blanks as wildcards, the way reqContractDetails and qualifyContracts use it) to
`ContractInfo` records that the message builders can echo. Only today's SPXW and XSP series exist; anything else
is IB error 200, which is what a real gateway says for an unknown or expired contract.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from datetime import date

from icbot.sim import listings
from icbot.sim.conventions import ROOT_BY_SYMBOL, ROOTS, OptionSpec
from icbot.sim.market import Market
from icbot.sim.messages import BAG_CON_ID, ContractInfo
from icbot.sim.requests import ContractReq, LegReq

OPTION_ORDER_TYPES = (
    "ACTIVETIM,AD,ADJUST,ALERT,ALLOC,AVGCOST,BASKET,COND,CONDORDER,DAY,DEACT,DEACTDIS,DEACTEOD,GAT,GTC,GTD,GTT,"
    "HID,IOC,LIT,LMT,MIT,MKT,NONALGO,OCA,OPENCLOSE,PAON,POSTONLY,PRICECHK,REL,SCALE,SCALERST,SIZECHK,SNAPMID,"
    "SNAPMKT,SNAPREL,STP,STPLMT,TRAIL,TRAILLIT,TRAILLMT,TRAILMIT,WHATIF"
)
OPTION_EXCHANGES = ("SMART", "CBOE")
VIX_LONG_NAME = "CBOE Volatility Index"


class Catalog:
    """All contracts of one simulated session, indexed for lookups."""

    def __init__(self, market: Market) -> None:
        self.market = market
        d = market.session_date
        ymd = d.strftime("%Y%m%d")
        close = market.close_time().strftime("%H%M")
        self.trading_hours = f"{ymd}:0930-{ymd}:{close}"
        self.liquid_hours = f"{ymd}:0930-{ymd}:{close}"
        self.indexes = {r.symbol: self._index(r.index_con_id, r.symbol, r.long_name) for r in ROOTS}
        self.indexes["VIX"] = self._index(Market.VIX_CON_ID, "VIX", VIX_LONG_NAME)
        self.spx, self.xsp, self.vix = self.indexes["SPX"], self.indexes["XSP"], self.indexes["VIX"]
        self._by_index_id = {i.con_id: i for i in self.indexes.values()}
        self.options: dict[int, OptionSpec] = {o.con_id: o for o in market.all_options()}

    def _index(self, con_id: int, symbol: str, long_name: str) -> ContractInfo:
        """A CBOE index as IB describes it (SPX, XSP, VIX): same exchange, tick, rule and hours."""
        return ContractInfo(
            con_id=con_id,
            symbol=symbol,
            sec_type="IND",
            exchange="CBOE",
            local_symbol=symbol,
            trading_class=symbol,
            market_name=symbol,
            min_tick=0.01,
            valid_exchanges="CBOE",
            long_name=long_name,
            trading_hours=self.trading_hours,
            liquid_hours=self.liquid_hours,
            market_rule_ids="239",
        )

    @property
    def session_date(self) -> date:
        return self.market.session_date

    def option_info(self, spec: OptionSpec, exchange: str = "SMART") -> ContractInfo:
        root = spec.root
        return ContractInfo(
            con_id=spec.con_id,
            symbol=spec.symbol,
            sec_type="OPT",
            last_trade_date=spec.last_trade_date,
            strike=spec.strike,
            right=spec.right,
            multiplier=str(spec.multiplier),
            exchange=exchange,
            primary_exchange="",
            currency=spec.currency,
            local_symbol=spec.local_symbol,
            trading_class=spec.trading_class,
            market_name=spec.trading_class,
            min_tick=0.01 if root.penny else 0.05,
            order_types=OPTION_ORDER_TYPES,
            valid_exchanges=",".join(OPTION_EXCHANGES),
            under_con_id=root.index_con_id,
            long_name=root.long_name,
            contract_month=spec.expiry.strftime("%Y%m"),
            trading_hours=self.trading_hours,
            liquid_hours=self.liquid_hours,
            under_symbol=root.symbol,
            under_sec_type="IND",
            market_rule_ids=root.market_rule_ids,
            real_expiration_date=spec.last_trade_date,
        )

    def by_con_id(self, con_id: int) -> ContractInfo | None:
        index = self._by_index_id.get(con_id)
        if index is not None:
            return index
        spec = self.options.get(con_id)
        return self.option_info(spec) if spec else None

    def position_info(self, con_id: int) -> ContractInfo | None:
        """The contract as IB's position message carries it: the listing exchange, or "" for an option (never
        SMART, which is a routing choice, not a listing)."""
        info = self.by_con_id(con_id)
        if info is None or info.sec_type != "OPT":
            return info
        return replace(info, exchange="")

    def details(self, info: ContractInfo) -> ContractInfo:
        """The contract as reqContractDetails describes it: a week of trading and liquid hours, and an option's
        last trading time (16:00 ET for an expiring SPXW or XSP series, the early close on a half day)."""
        if info.sec_type == "IND":
            return replace(info, trading_hours=self._index_hours, liquid_hours=self._index_hours)
        if info.sec_type == "OPT":
            trading, liquid = self._option_hours
            return replace(info, trading_hours=trading, liquid_hours=liquid, last_trade_time=self._last_trade_time)
        return info

    @property
    def _last_trade_time(self) -> str:
        return self.market.close_time().strftime("%H:%M:%S")

    @functools.cached_property
    def _index_hours(self) -> str:
        return listings.index_hours(self.session_date, self.market.close_time().time())

    @functools.cached_property
    def _option_hours(self) -> tuple[str, str]:
        return listings.expiring_option_hours(self.session_date, self.market.close_time().time())

    @functools.cache  # noqa: B019 - one catalog per simulator, alive as long as it
    def option_chains(self, symbol: str) -> list[tuple[str, str, list[str], list[float]]]:
        """reqSecDefOptParams' chains (exchange, trading class, expirations, strikes) for an index symbol.

        SPX: every chain IB lists, in the order IB's own output shows them (ib_async option_chain notebook):
        (SMART, SPX), (CBOE, SPXW), (SMART, SPXW), (CBOE, SPX). The AM-settled class SPX expires on the session
        before each third Friday; SPXW on every session for weeks ahead, then month-ends and third Fridays.
        Strikes are each class's union over its expirations (today's listing plus a 25-point grid further out),
        so they differ per class. Only today's SPXW series exist as contracts here. XSP: today's expiry and
        strikes, on SMART and CBOE."""
        root = ROOT_BY_SYMBOL[symbol]
        listed = self.market.strikes(symbol)
        if symbol != "SPX":
            today = [self.session_date.strftime("%Y%m%d")]
            return [(ex, root.trading_class, today, listed) for ex in OPTION_EXCHANGES]
        spot = self.market.params.spx_start
        pm = (listings.pm_expirations(self.session_date), listings.chain_strikes(listed, spot, 25.0, 0.3))
        am = (listings.am_expirations(self.session_date), listings.chain_strikes(listed, spot, 25.0, 0.5))
        return [("SMART", "SPX", *am), ("CBOE", "SPXW", *pm), ("SMART", "SPXW", *pm), ("CBOE", "SPX", *am)]

    def bag_root(self, legs: list[LegReq]) -> str | None:
        """The one underlying symbol of a combo's legs (SPX or XSP), None when they are not all options of one root."""
        symbols = {self.options[leg.con_id].symbol for leg in legs if leg.con_id in self.options}
        return symbols.pop() if len(symbols) == 1 and all(leg.con_id in self.options for leg in legs) else None

    def bag_info(self, legs: list[LegReq], symbol: str = "SPX", exchange: str = "SMART") -> ContractInfo:
        """The BAG as IB echoes it: generic combo conId, legs, and a 'conId|signedRatio,…' description."""
        descrip = ",".join(f"{leg.con_id}|{leg.ratio if leg.action == 'BUY' else -leg.ratio}" for leg in legs)
        return ContractInfo(
            con_id=BAG_CON_ID,
            symbol=symbol or "SPX",
            sec_type="BAG",
            right="?",
            exchange=exchange or "SMART",
            currency="USD",
            local_symbol=str(BAG_CON_ID),
            trading_class="COMB",
            legs_descrip=descrip,
            legs=[(leg.con_id, leg.ratio, leg.action, leg.exchange or "SMART") for leg in legs],
        )

    def resolve(self, c: ContractReq) -> list[ContractInfo]:
        """Every listed contract matching the request; blank fields match anything (IB semantics)."""
        if c.con_id:
            info = self.by_con_id(c.con_id)
            if info is None:
                return []
            if c.sec_type and c.sec_type != info.sec_type:
                return []
            if info.sec_type == "OPT":
                return [self._with_exchange(info, c.exchange)]
            return [info]
        sec_type = c.sec_type.upper()
        symbol = c.symbol.upper()
        if sec_type == "IND":
            return [i for i in self.indexes.values() if i.symbol == symbol]
        if sec_type not in ("OPT", ""):
            return []
        if sec_type == "" and symbol in self.indexes and not c.last_trade_date and not c.right:
            return [self.indexes[symbol]]
        return self._match_options(c)

    def _with_exchange(self, info: ContractInfo, exchange: str) -> ContractInfo:
        ex = exchange.upper() if exchange else "SMART"
        if ex != info.exchange and ex in OPTION_EXCHANGES:
            spec = self.options[info.con_id]
            return self.option_info(spec, ex)
        return info

    def _match_options(self, c: ContractReq) -> list[ContractInfo]:
        symbol = {"SPXW": "SPX"}.get(c.symbol.upper(), c.symbol.upper())  # a class given as the symbol
        if symbol and symbol not in ROOT_BY_SYMBOL:
            return []
        if c.local_symbol:
            wanted = " ".join(c.local_symbol.split())
            specs = [o for o in self.options.values() if " ".join(o.local_symbol.split()) == wanted]
        else:
            specs = list(self.options.values())
        if symbol:
            specs = [o for o in specs if o.symbol == symbol]
        date_text = c.last_trade_date.strip()
        if date_text:
            ymd = self.session_date.strftime("%Y%m%d")
            if not (date_text == ymd or date_text == ymd[:6]):
                return []
        trading_class = c.trading_class.upper()
        if trading_class:
            specs = [o for o in specs if o.trading_class == trading_class]
        right = c.norm_right
        if right:
            specs = [o for o in specs if o.right == right]
        if c.strike:
            specs = [o for o in specs if abs(o.strike - c.strike) < 1e-6]
        if c.multiplier and c.multiplier not in ("100", "100.0"):
            return []
        exchange = c.exchange.upper()
        if exchange and exchange not in OPTION_EXCHANGES:
            return []
        exchanges = [exchange] if exchange else list(OPTION_EXCHANGES)
        specs.sort(key=lambda o: (o.symbol, o.right, o.strike))
        return [self.option_info(o, ex) for o in specs for ex in exchanges]
