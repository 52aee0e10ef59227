"""IB / Cboe listing conventions for SPXW options: contract identity, symbols and the price grid.

Kept apart from the market model because the simulated order engine needs the same rules: an order
price off the tick grid is rejected with error 110, and contracts must be named exactly as IB names them.
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


def option_con_id(expiry: date, right: str, strike: float) -> int:
    """A stable conId from (date, right, strike), seed-independent, far above the index conIds.

    700,000,000 + 100,000 per day since 2020-01-01 + 50,000 for calls + the strike: unique per listing
    for strikes below 50,000 and dates 2000–2059, inside IB's positive 32-bit range.
    """
    day = (expiry - date(2020, 1, 1)).days
    return 700_000_000 + day * 100_000 + (50_000 if right == "C" else 0) + round(strike)
