"""IB / Cboe listing conventions for SPXW and XSP options: contract identity, symbols and the price grid.

Kept apart from the market model because the simulated order engine needs the same rules: an order
price off the tick grid is rejected with error 110, and contracts must be named exactly as IB names them.

Two 0DTE roots are listed (`ROOTS`): SPX options of class SPXW on the S&P 500 index, and XSP options of class
XSP on the Mini-SPX index, one tenth of SPX. SPXW trades on Cboe's 0.05 / 0.10 grid (0.10 from 3.00 up) with
5-point strikes; XSP trades in pennies for every series (Cboe's XSP specification: "The minimum tick for XSP
options is 0.01 for all series") with 1-point strikes, and its complex orders are priced in 0.01 as well.
The module-level tick helpers (`option_tick`, `bid_ask`, ...) are SPXW's; `Root` has each root's own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

# (price below, total bid/ask width): cheap options trade a nickel wide, rich ones wider.
_WIDTHS: tuple[tuple[float, float], ...] = (
    (1.0, 0.05),
    (5.0, 0.10),
    (10.0, 0.20),
    (20.0, 0.30),
    (100.0, 0.50),
    (math.inf, 1.00),
)


@dataclass(frozen=True, slots=True)
class Root:
    """One listed 0DTE option root: its index, its grid and how its contracts are named."""

    symbol: str  # the index and the options' symbol ("SPX", "XSP")
    trading_class: str  # "SPXW", "XSP"
    index_con_id: int
    scale: float  # index level = SPX level × scale
    strike_step: float
    penny: bool  # every price on a 0.01 grid (XSP), else SPXW's 0.05 / 0.10 grid
    combo_tick: float | None  # the complex-order net price increment; None: the engine's configured one (SPXW)
    con_id_slot: int  # added to the conId: keeps the roots' conIds apart (see option_con_id)
    long_name: str
    market_rule_ids: str

    def tick(self, price: float) -> float:
        return 0.01 if self.penny else option_tick(price)

    def floor_tick(self, x: float) -> float:
        return round(math.floor(x / 0.01 + 1e-9) * 0.01, 2) if self.penny else floor_tick(x)

    def ceil_tick(self, x: float) -> float:
        return round(math.ceil(x / 0.01 - 1e-9) * 0.01, 2) if self.penny else ceil_tick(x)

    def round_tick(self, x: float) -> float:
        return round(x, 2) if self.penny else round_tick(x)

    def spread_width(self, price: float) -> float:
        table = _XSP_WIDTHS if self.penny else _WIDTHS
        return next(width for below, width in table if price < below)

    def bid_ask(self, theo: float) -> tuple[float, float]:
        """Quote around a theoretical price on this root's grid: bid ≤ theo ≤ ask, bid ≥ 0, ask ≥ one tick."""
        if not self.penny:
            return bid_ask(theo)
        half = self.spread_width(theo) / 2.0
        return max(0.0, self.floor_tick(theo - half)), max(0.01, self.ceil_tick(theo + half))


# XSP: (price below, total bid/ask width). A tenth of SPXW's prices; penny-wide where SPXW is a nickel wide.
_XSP_WIDTHS: tuple[tuple[float, float], ...] = (
    (0.10, 0.01),
    (0.50, 0.02),
    (2.00, 0.03),
    (10.0, 0.05),
    (math.inf, 0.10),
)
SPX_CON_ID = 416904
XSP_CON_ID = 14237183  # the simulator's Mini-SPX index conId (IB's own is not documented in the references)
SPXW = Root("SPX", "SPXW", SPX_CON_ID, 1.0, 5.0, False, None, 0, "S&P 500 Stock Index", "110,110")
XSP = Root("XSP", "XSP", XSP_CON_ID, 0.1, 1.0, True, 0.01, 40_000, "Mini-SPX Index", "1,1")
ROOTS: tuple[Root, ...] = (SPXW, XSP)
ROOT_BY_SYMBOL = {r.symbol: r for r in ROOTS}


@dataclass(frozen=True, slots=True)
class OptionSpec:
    con_id: int
    right: str  # "P" | "C"
    strike: float
    expiry: date
    local_symbol: str
    trading_class: str = "SPXW"
    multiplier: int = 100
    symbol: str = "SPX"
    exchange: str = "SMART"
    primary_exchange: str = "CBOE"
    currency: str = "USD"

    @property
    def last_trade_date(self) -> str:
        """lastTradeDateOrContractMonth as IB sends it: YYYYMMDD."""
        return self.expiry.strftime("%Y%m%d")

    @property
    def root(self) -> Root:
        return ROOT_BY_SYMBOL[self.symbol]


def option_tick(price: float) -> float:
    """Cboe SPX/SPXW single-leg tick: 0.05 below 3.00, 0.10 at or above."""
    return 0.05 if price < 3.0 else 0.10


def floor_tick(x: float) -> float:
    grid = 0.10 if x >= 3.0 else 0.05
    return round(math.floor(x / grid + 1e-9) * grid, 2)


def ceil_tick(x: float) -> float:
    grid = 0.10 if x > 3.0 else 0.05
    return round(math.ceil(x / grid - 1e-9) * grid, 2)


def round_tick(x: float) -> float:
    grid = option_tick(x)
    return round(round(x / grid) * grid, 2)


def spread_width(price: float) -> float:
    for below, width in _WIDTHS:
        if price < below:
            return width
    return _WIDTHS[-1][1]


def bid_ask(theo: float) -> tuple[float, float]:
    """Quote around a theoretical price: bid ≤ theo ≤ ask on the tick grid, bid ≥ 0, ask ≥ 0.05."""
    half = spread_width(theo) / 2.0
    bid = max(0.0, floor_tick(theo - half))
    ask = max(0.05, ceil_tick(theo + half))
    return bid, ask


def local_symbol(expiry: date, right: str, strike: float, root: str = "SPXW") -> str:
    """OCC-style symbol as IB shows it: root padded to 6, yymmdd, right, strike×1000 in 8 digits."""
    return f"{root:<6}{expiry:%y%m%d}{right}{round(strike * 1000):08d}"


def option_con_id(expiry: date, right: str, strike: float, root: Root = SPXW) -> int:
    """A stable conId from (date, right, strike, root), seed-independent, far above the index conIds.

    700,000,000 + 100,000 per day since 2020-01-01 + 50,000 for calls + the strike (SPXW), or + 40,000 + twice
    the strike (XSP, so half-point strikes would fit too): unique per listing for SPXW strikes below 40,000, XSP
    strikes below 5,000 and dates 2000–2059, inside IB's positive 32-bit range.
    """
    day = (expiry - date(2020, 1, 1)).days
    slot = round(strike) if root.con_id_slot == 0 else root.con_id_slot + round(strike * 2)
    return 700_000_000 + day * 100_000 + (50_000 if right == "C" else 0) + slot
