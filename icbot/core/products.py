"""The two index products icbot trades: SPX options of class SPXW, and XSP (Mini-SPX) options of class XSP.

Both are cash-settled, European, PM-settled index options on Cboe with a $100 multiplier and a daily (0DTE)
expiry, the two a small account at IB would use for a same-day iron condor. XSP is one tenth of SPX: its index
is SPX / 10, its 0DTE strikes are listed every 1 point (SPXW: every 5), its premiums are about a tenth.
Strikes, wing widths and credits are always in the product's own points; deltas are the same on both.

`strategy.symbol` / `strategy.trading_class` in config.yaml select one of these pairs and nothing else: any other
pair is refused at load time, because the broker layer only knows how to look up, stream and order these two.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Product:
    """One tradable 0DTE index option product as IB names it."""

    symbol: str  # the index and the options' symbol at IB: Index(symbol, "CBOE"), Option(symbol, ...)
    trading_class: str  # the daily PM-settled class (SPXW for SPX; XSP for XSP)
    strike_step: float  # listed 0DTE strike spacing near the money, in index points
    description: str
    index_exchange: str = "CBOE"
    multiplier: int = 100
    currency: str = "USD"

    @property
    def label(self) -> str:
        """How messages name the options, e.g. "SPXW" or "XSP"."""
        return self.trading_class

    @property
    def pair(self) -> str:
        return f"{self.symbol}/{self.trading_class}"


SPX = Product("SPX", "SPXW", 5.0, "S&P 500 index options, PM-settled weeklys/dailies")
XSP = Product("XSP", "XSP", 1.0, "Mini-SPX index options (1/10 of SPX)")
PRODUCTS: tuple[Product, ...] = (SPX, XSP)
SYMBOLS: tuple[str, ...] = tuple(p.symbol for p in PRODUCTS)


def product_for(symbol: str, trading_class: str) -> Product:
    """The product of a (symbol, trading class) pair; ValueError for any pair icbot does not trade."""
    for p in PRODUCTS:
        if p.symbol == symbol and p.trading_class == trading_class:
            return p
    allowed = ", ".join(p.pair for p in PRODUCTS)
    raise ValueError(f"{symbol}/{trading_class} is not a product icbot trades; allowed: {allowed}")


def product_of_symbol(symbol: str) -> Product | None:
    return next((p for p in PRODUCTS if p.symbol == symbol), None)
