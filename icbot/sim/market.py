"""The simulated market for one session day: an SPX path, a VIX quote and the 0DTE SPXW and XSP chains.

Pure and deterministic: nothing here reads the wall clock or does I/O. Every question is asked at an
explicit instant `t` (an aware datetime), so the simulator at speed 600 and a test at speed 0 see the
same market. The same (seed, session date) always yields the same path and quotes; a different seed
gives a different day. docs/simulator.md ("The market model") explains the choices and their numbers.

Units follow IB: prices in index points per share (×100 multiplier), deltas signed in −1..1, vega per
volatility point, theta per calendar day.

XSP (the Mini-SPX index) is SPX / 10 at every second, rounded to its 0.01 tick, and its 0DTE options are priced by
the same Black-Scholes model with the same volatility surface (moneyness and time are scale-free), so an XSP
option at strike k is worth a tenth of an SPXW option at strike 10·k and has the same delta. XSP strikes are
listed every point, its prices are quoted in pennies (icbot.sim.conventions.XSP).
"""

from __future__ import annotations

import functools
import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from icbot.clock import NEW_YORK
from icbot.sim import blackscholes as bs
from icbot.sim.conventions import (
    ROOT_BY_SYMBOL,
    ROOTS,
    SPX_CON_ID,
    XSP_CON_ID,
    OptionSpec,
    Root,
    bid_ask,
    ceil_tick,
    floor_tick,
    local_symbol,
    option_con_id,
    option_tick,
    round_tick,
    spread_width,
)

__all__ = [
    "SECONDS_PER_YEAR",
    "TIME_FACTOR",
    "TRADING_SECONDS_PER_YEAR",
    "Bar",
    "Greeks",
    "Market",
    "MarketDataError",
    "MarketParams",
    "OptionSpec",
    "Quote",
    "bid_ask",
    "ceil_tick",
    "floor_tick",
    "local_symbol",
    "option_con_id",
    "option_tick",
    "round_tick",
    "spread_width",
]

SECONDS_PER_YEAR = 365 * 24 * 3600
# The path's volatility is quoted per trading year (252 sessions of 6.5 h), the way VIX / √252 reads as
# the daily move. Options, as at IB, count calendar time to expiry, so the same variance needs a larger
# implied vol: σ_cal = σ · √(calendar seconds / trading seconds per year) ≈ 2.31 σ for the intraday part.
TRADING_SECONDS_PER_YEAR = 252 * 23400
TIME_FACTOR = math.sqrt(SECONDS_PER_YEAR / TRADING_SECONDS_PER_YEAR)
XSP_SCALE = ROOT_BY_SYMBOL["XSP"].scale
NAN = math.nan


class MarketDataError(ValueError):
    """A request the market cannot answer (unknown conId, no such data type); IB would send 200 or 162."""


@dataclass(frozen=True, slots=True)
class Quote:
    """A top-of-book snapshot. NaN means "IB sends no such tick" (indices have no bid/ask)."""

    bid: float
    ask: float
    bid_size: int
    ask_size: int
    last: float
    close: float
    open: float = NAN
    high: float = NAN
    low: float = NAN

    @property
    def mid(self) -> float:
        if math.isnan(self.bid) or math.isnan(self.ask):
            return self.last
        return (self.bid + self.ask) / 2.0


@dataclass(frozen=True, slots=True)
class Greeks:
    implied_vol: float
    delta: float
    opt_price: float
    pv_dividend: float
    gamma: float
    vega: float
    theta: float
    und_price: float


@dataclass(frozen=True, slots=True)
class Bar:
    time: datetime  # bar start, America/New_York
    open: float
    high: float
    low: float
    close: float
    volume: float = -1.0  # IB's sentinel for quote bars (MIDPOINT, BID, ASK, BID_ASK)
    wap: float = -1.0
    bar_count: int = -1


@dataclass(frozen=True)
class MarketParams:
    seed: int = 7
    spx_start: float = 6000.0
    volatility: float = 0.16  # annual, per trading year; drives the path and the VIX level
    rate: float = 0.04
    skew: float = 0.12  # put-side IV rise per standard deviation of moneyness below spot
    call_skew: float = 0.05  # call-side IV dip per standard deviation above spot (capped at 2 sd)
    smile: float = 0.01  # IV convexity per sd², lifts both far wings
    vix_beta: float = 4.0  # VIX moves as (S/S0)^-beta: a 1 % SPX drop lifts VIX ~4 %
    vix_noise: float = 0.015  # amplitude of the smooth per-minute VIX wobble
    min_expiry_seconds: float = 300.0  # floor on time to expiry so greeks stay defined near the close
    strike_step: float = 5.0  # SPXW strikes
    xsp_strike_step: float = 1.0  # XSP strikes
    strike_range: float = 0.10  # each chain covers its index's start level·(1 ± range)
    open_time: time = time(9, 30)
    close_time: time = time(16, 0)  # pass time(13, 0) for an early close
    bar_sample_seconds: int = 5  # option bars sample the quote this often (index bars: every second)

    def __post_init__(self) -> None:
        if (
            self.spx_start <= 0
            or self.volatility <= 0
            or self.strike_step <= 0
            or self.xsp_strike_step <= 0
            or self.bar_sample_seconds <= 0
        ):
            raise ValueError("spx_start, volatility, strike steps and bar_sample_seconds must be positive")
        if self.close_time <= self.open_time:
            raise ValueError("close_time must be after open_time")


@dataclass(frozen=True, slots=True)
class _Point:
    quote: Quote
    greeks: Greeks


def _mix(*parts: int) -> int:
    """splitmix64 over the parts: cheap deterministic noise (sizes) keyed by seed, conId and second."""
    h = 0x9E3779B97F4A7C15
    for p in parts:
        h = (h ^ (p & 0xFFFFFFFFFFFFFFFF)) * 0xBF58476D1CE4E5B9 & 0xFFFFFFFFFFFFFFFF
        h = (h ^ (h >> 27)) * 0x94D049BB133111EB & 0xFFFFFFFFFFFFFFFF
        h ^= h >> 31
    return h


class Market:
    """One session day of SPX, XSP, VIX and the SPXW and XSP chains expiring that day."""

    SPX_CON_ID = SPX_CON_ID
    XSP_CON_ID = XSP_CON_ID
    VIX_CON_ID = 13455763

    def __init__(self, session_date: date, params: MarketParams | None = None) -> None:
        self.session_date = session_date
        self.params = p = params if params is not None else MarketParams()
        day = _day(session_date, p)
        self._open, self._close, self._open_ts, self._n = day.open, day.close, day.open_ts, day.n
        self._spx, self._vix, self._xsp = day.spx, day.vix, day.xsp
        self._indexes = day.indexes
        self._paths = {root.symbol: self._indexes[root.index_con_id][0] for root in ROOTS}
        self._chains = day.chains
        self._chain = [o for chain in self._chains.values() for o in chain]
        self._by_id = {o.con_id: o for o in self._chain}
        self._by_key = {(o.symbol, o.right, o.strike): o for o in self._chain}
        self._cache = day.points  # shared by the day's Markets (see _Day)
        self._side_cache = day.sides
        self._prev_close = day.prev_closes

    # -- time -------------------------------------------------------------------------------------------
    def open_time(self) -> datetime:
        return self._open

    def close_time(self) -> datetime:
        """Expiry of the 0DTE SPXW and XSP series (16:00 ET, or the early close given in the params)."""
        return self._close

    def _seconds(self, t: datetime) -> float:
        if t.tzinfo is None:
            raise ValueError(f"market time must be timezone-aware, got naive {t!r}")
        return t.timestamp() - self._open_ts

    def _second(self, t: datetime) -> int:
        """Whole seconds since the open (negative before it): the granularity of quotes and the cache key."""
        return math.floor(self._seconds(t) + 1e-9)

    def _idx(self, sec: int) -> int:
        return min(max(sec, 0), self._n)

    def _interp(self, series: Sequence[float], t: datetime) -> float:
        x = min(max(self._seconds(t), 0.0), float(self._n))
        i = int(x)
        if i >= self._n:
            return series[self._n]
        return round(series[i] + (series[i + 1] - series[i]) * (x - i), 2)

    # -- indices ----------------------------------------------------------------------------------------
    def spx(self, t: datetime) -> float:
        """SPX at t: flat at the start level before the open, flat at the close after it."""
        return self._interp(self._spx, t)

    def xsp(self, t: datetime) -> float:
        """The Mini-SPX index: SPX / 10 on its 0.01 tick (between seconds, interpolated like SPX)."""
        return self._interp(self._xsp, t)

    def vix(self, t: datetime) -> float:
        return self._interp(self._vix, t)

    def is_index(self, con_id: int) -> bool:
        return con_id in self._indexes

    def index_quote(self, con_id: int, t: datetime) -> Quote:
        """Index ticker as IB sends it: last, close (prior day), open/high/low of the session; no bid/ask."""
        if con_id not in self._indexes:
            raise MarketDataError(f"conId {con_id} is not an index of this market")
        series, hi, lo, close = self._indexes[con_id]
        sec = self._second(t)
        i = self._idx(sec)
        if sec < 0:
            return Quote(NAN, NAN, 0, 0, series[0], close)
        return Quote(NAN, NAN, 0, 0, series[i], close, open=series[0], high=hi[i], low=lo[i])

    # -- the chains -------------------------------------------------------------------------------------
    def options(self, symbol: str = "SPX") -> list[OptionSpec]:
        """One root's chain (SPX: the SPXW options, XSP: the XSP options), sorted by (right, strike): calls first."""
        return list(self._chains[symbol])

    def all_options(self) -> list[OptionSpec]:
        """Every listed option of every root."""
        return list(self._chain)

    def strikes(self, symbol: str = "SPX") -> list[float]:
        return sorted({o.strike for o in self._chains[symbol]})

    def option(self, con_id: int) -> OptionSpec | None:
        return self._by_id.get(con_id)

    def find_option(self, right: str, strike: float, symbol: str = "SPX") -> OptionSpec | None:
        return self._by_key.get((symbol, right.upper()[:1], float(strike)))

    def _spec(self, con_id: int) -> OptionSpec:
        spec = self._by_id.get(con_id)
        if spec is None:
            raise MarketDataError(f"conId {con_id} is not an option of the {self.session_date} 0DTE chains")
        return spec

    def _spot(self, spec: OptionSpec, sec: int) -> float:
        """The option's underlying index at a second: SPX for SPXW, XSP (SPX / 10) for XSP."""
        return self._paths[spec.symbol][self._idx(sec)]

    # -- option pricing ---------------------------------------------------------------------------------
    def _years(self, sec: int) -> float:
        return max(self._n - sec, self.params.min_expiry_seconds) / SECONDS_PER_YEAR

    def atm_vol(self, t: datetime) -> float:
        """At-the-money implied vol on IB's calendar-time basis: VIX/100 × TIME_FACTOR."""
        return self._atm_vol(self._second(t))

    def _atm_vol(self, sec: int) -> float:
        return TIME_FACTOR * self._vix[self._idx(sec)] / 100.0

    def _smile(self, strike: float, spot: float, years: float, atm: float) -> float:
        """IV at a strike: moneyness in standard deviations, put skew, a milder call dip, a little smile.

        Measuring moneyness in sd (not points) keeps the shape sensible both at 09:30 and at 15:55,
        when a 20-point move is respectively ~0.3 and ~2 sd.
        """
        p = self.params
        x = math.log(strike / spot) / (atm * math.sqrt(years))
        x = min(max(x, -6.0), 6.0)
        f = 1.0 + p.skew * max(0.0, -x) - p.call_skew * min(max(0.0, x), 2.0) + p.smile * x * x
        return atm * max(f, 0.5)

    def implied_vol(self, con_id: int, t: datetime) -> float:
        spec = self._spec(con_id)
        sec = self._second(t)
        return self._smile(spec.strike, self._spot(spec, sec), self._years(sec), self._atm_vol(sec))

    def _compute(self, spec: OptionSpec, sec: int) -> _Point:
        p = self.params
        spot = self._spot(spec, sec)
        years = self._years(sec)
        iv = self._smile(spec.strike, spot, years, self._atm_vol(sec))
        if sec >= self._n:  # expired: worth its settlement value, no time value, no sensitivities left
            value = self.settlement(spec.con_id)
            delta = 0.0 if value <= 0 else (1.0 if spec.right == "C" else -1.0)
            r = bs.BSResult(value, delta, 0.0, 0.0, 0.0)
        else:
            r = bs.price_and_greeks(spec.right, spot, spec.strike, years, p.rate, iv)
        root = spec.root
        bid, ask = root.bid_ask(r.price)
        h = _mix(p.seed, spec.con_id, sec)
        quote = Quote(bid, ask, 10 + h % 191, 10 + (h >> 16) % 191, root.round_tick(r.price), self._close_of(spec))
        return _Point(quote, Greeks(iv, r.delta, r.price, 0.0, r.gamma, r.vega, r.theta, spot))

    def _close_of(self, spec: OptionSpec) -> float:
        """Prior session's close: the option priced at the start level with one more trading day to go."""
        c = self._prev_close.get(spec.con_id)
        if c is None:
            p = self.params
            years = 86400.0 / SECONDS_PER_YEAR  # yesterday 16:00 → today 16:00, one session of variance
            atm = p.volatility * math.sqrt(self._n / TRADING_SECONDS_PER_YEAR / years)
            start = p.spx_start * spec.root.scale
            iv = self._smile(spec.strike, start, years, atm)
            c = spec.root.round_tick(bs.price(spec.right, start, spec.strike, years, p.rate, iv))
            self._prev_close[spec.con_id] = c
        return c

    def _point(self, con_id: int, sec: int) -> _Point:
        key = (con_id, sec)
        pt = self._cache.get(key)
        if pt is None:
            if len(self._cache) > 100_000:  # "now" and the day's bars: check's four legs take about 19k samples a day
                self._cache.clear()
            pt = self._cache[key] = self._compute(self._spec(con_id), sec)
        return pt

    def quote(self, con_id: int, t: datetime) -> Quote:
        """Quote for an option or an index (SPX, XSP, VIX); options requote once per whole second."""
        if con_id in self._indexes:
            return self.index_quote(con_id, t)
        return self._point(con_id, self._second(t)).quote

    def greeks(self, con_id: int, t: datetime) -> Greeks:
        """Model greeks (IB tick type 13) at the model price, consistent with quote(con_id, t)."""
        return self._point(con_id, self._second(t)).greeks

    def side_greeks(self, con_id: int, t: datetime) -> tuple[Greeks | None, Greeks | None]:
        """Greeks implied by the bid and by the ask (IB tick types 10 and 11); None where no vol fits (bid 0)."""
        sec = self._second(t)
        key = (con_id, sec)
        hit = self._side_cache.get(key)
        if hit is not None:
            return hit
        if len(self._side_cache) > 100_000:
            self._side_cache.clear()
        spec, pt = self._spec(con_id), self._point(con_id, sec)
        spot, years, rate = pt.greeks.und_price, self._years(sec), self.params.rate
        sides: list[Greeks | None] = []
        for px in (pt.quote.bid, pt.quote.ask):
            iv = bs.implied_vol(spec.right, px, spot, spec.strike, years, rate)
            if iv is None:
                sides.append(None)
                continue
            r = bs.price_and_greeks(spec.right, spot, spec.strike, years, rate, iv)
            sides.append(Greeks(iv, r.delta, px, 0.0, r.gamma, r.vega, r.theta, spot))
        out = (sides[0], sides[1])
        self._side_cache[key] = out
        return out

    def settlement(self, con_id: int) -> float:
        """Cash settlement value of a 0DTE option: intrinsic at its index's closing level (PM-settled)."""
        spec = self._spec(con_id)
        s = self._paths[spec.symbol][self._n]
        return round(max(0.0, s - spec.strike) if spec.right == "C" else max(0.0, spec.strike - s), 2)

    def combo_quote(self, legs: Sequence[tuple[int, int]], t: datetime) -> Quote:
        """Natural bid/ask of a BAG bought once: legs are (conId, signed ratio), + for BUY legs, − for SELL.

        Buying the combo pays the ask of BUY legs and receives the bid of SELL legs, so an iron condor
        (BUY wings, SELL shorts) has a negative bid and ask: a credit. Sizes are the legs' limiting size.
        """
        bid = ask = last = close = 0.0
        bid_size = ask_size = 1 << 30
        for con_id, ratio in legs:
            q = self.quote(con_id, t)
            n = abs(ratio)
            if ratio > 0:
                bid, ask = bid + n * q.bid, ask + n * q.ask
                bid_size, ask_size = min(bid_size, q.bid_size // n), min(ask_size, q.ask_size // n)
            else:
                bid, ask = bid - n * q.ask, ask - n * q.bid
                bid_size, ask_size = min(bid_size, q.ask_size // n), min(ask_size, q.bid_size // n)
            last += ratio * q.last
            close += ratio * q.close
        return Quote(round(bid, 2), round(ask, 2), bid_size, ask_size, round(last, 2), round(close, 2))

    # -- historical bars --------------------------------------------------------------------------------
    def bars(
        self, con_id: int, what: str, start: datetime, end: datetime, now: datetime, bar_seconds: int = 60
    ) -> list[Bar]:
        """Regular-hours bars lying wholly inside [start, end] and completed by `now`, oldest first.

        Options: MIDPOINT, BID, ASK, BID_ASK (IB: open = time-average bid, high = max ask, low = min bid,
        close = time-average ask), TRADES (of the last price). Indices: TRADES only, as at IB.
        """
        if bar_seconds <= 0:
            raise ValueError("bar_seconds must be positive")
        what = what.upper()
        is_index = con_id in self._indexes
        if is_index and what != "TRADES":
            raise MarketDataError(f"No data of type {what} is available for an index (use TRADES)")
        if not is_index and what not in ("MIDPOINT", "BID", "ASK", "BID_ASK", "TRADES"):
            raise MarketDataError(f"unsupported whatToShow {what!r}")
        spec = None if is_index else self._spec(con_id)
        lo = max(self._seconds(start), 0.0)
        hi = min(self._seconds(end), self._seconds(now), float(self._n))
        b = math.ceil(lo / bar_seconds - 1e-9) * bar_seconds
        step = 1 if is_index else self.params.bar_sample_seconds
        out: list[Bar] = []
        while b + bar_seconds <= hi + 1e-9:
            secs = range(b, b + bar_seconds, step)
            if spec is None:
                series = self._indexes[con_id][0]
                vals = [series[s] for s in secs]
                out.append(self._ohlc(b, vals, trades=True))
            else:
                quotes = [self._point(con_id, s).quote for s in secs]  # bars asked again and again: cached
                out.append(self._option_bar(b, what, quotes))
            b += bar_seconds
        return out

    def _bar_time(self, sec: int) -> datetime:
        return (self._open + timedelta(seconds=sec)).astimezone(NEW_YORK)

    def _ohlc(self, sec: int, vals: list[float], *, trades: bool = False) -> Bar:
        t = self._bar_time(sec)
        if trades:
            return Bar(t, vals[0], max(vals), min(vals), vals[-1], 0.0, round(sum(vals) / len(vals), 4), 0)
        return Bar(t, vals[0], max(vals), min(vals), vals[-1])

    def _option_bar(self, sec: int, what: str, quotes: list[Quote]) -> Bar:
        if what == "BID_ASK":
            n = len(quotes)
            avg_bid = round(sum(q.bid for q in quotes) / n, 4)
            avg_ask = round(sum(q.ask for q in quotes) / n, 4)
            return Bar(self._bar_time(sec), avg_bid, max(q.ask for q in quotes), min(q.bid for q in quotes), avg_ask)
        if what == "BID":
            return self._ohlc(sec, [q.bid for q in quotes])
        if what == "ASK":
            return self._ohlc(sec, [q.ask for q in quotes])
        if what == "TRADES":
            return self._ohlc(sec, [q.last for q in quotes], trades=True)
        return self._ohlc(sec, [round((q.bid + q.ask) / 2.0, 3) for q in quotes])


IndexSeries = tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...], float]


@dataclass(frozen=True)
class _Day:
    """What a (session date, params) pair determines before anyone asks a question: the index paths and chains.

    Every simulator a test suite or a soak starts for the same day builds exactly this; it is cached
    (`_day`), and its paths and chains are immutable, so Markets of the same day share it. They share its quote
    caches too: a second's quote and greeks are a function of the day, the params, the contract and the second
    alone (`Market._compute`), so the tests' many simulators of one day compute each of them once per process
    (an end-to-end day's checks ask for the legs' bars since the entry again and again). Only the four most recently
    used (date, params) pairs are kept (`_day`), each cache at most about 100,000 seconds of contracts.
    """

    open: datetime
    close: datetime
    open_ts: float
    n: int
    spx: tuple[float, ...]
    vix: tuple[float, ...]
    xsp: tuple[float, ...]
    indexes: dict[int, IndexSeries]  # index conId → (path, running high, running low, prior close)
    chains: dict[str, tuple[OptionSpec, ...]]
    points: dict[tuple[int, int], _Point] = field(default_factory=dict, compare=False, repr=False)
    sides: dict[tuple[int, int], tuple[Greeks | None, Greeks | None]] = field(
        default_factory=dict, compare=False, repr=False
    )
    prev_closes: dict[int, float] = field(default_factory=dict, compare=False, repr=False)


@functools.lru_cache(maxsize=4)
def _day(session_date: date, p: MarketParams) -> _Day:
    start = datetime.combine(session_date, p.open_time, NEW_YORK)
    close = datetime.combine(session_date, p.close_time, NEW_YORK)
    n = round(close.timestamp() - start.timestamp())
    spx = _make_spx(session_date, p, n)
    vix = _make_vix(session_date, p, n, spx)
    xsp = tuple(round(x * XSP_SCALE, 2) for x in spx)
    indexes = {
        SPX_CON_ID: _index_series(spx, p.spx_start),
        XSP_CON_ID: _index_series(xsp, round(p.spx_start * XSP_SCALE, 2)),
        Market.VIX_CON_ID: _index_series(vix, round(100.0 * p.volatility, 2)),
    }
    chains = {root.symbol: _make_chain(session_date, p, root) for root in ROOTS}
    return _Day(start, close, start.timestamp(), n, spx, vix, xsp, indexes, chains)


def _rng(session_date: date, p: MarketParams, stream: str) -> random.Random:
    # A str seed is hashed with SHA-512 by `random`, so it is stable across runs and PYTHONHASHSEED.
    return random.Random(f"icbot.sim.market:{p.seed}:{session_date.isoformat()}:{stream}")


def _make_spx(session_date: date, p: MarketParams, n: int) -> tuple[float, ...]:
    """GBM, one step per second of the session, rounded to the index's 0.01 tick."""
    sd = p.volatility / math.sqrt(TRADING_SECONDS_PER_YEAR)
    drift = -0.5 * sd * sd
    gauss = _rng(session_date, p, "spx").gauss
    steps = [drift + sd * gauss(0.0, 1.0) for _ in range(n)]
    return tuple(round(math.exp(x), 2) for x in itertools.accumulate(steps, initial=math.log(p.spx_start)))


def _make_vix(session_date: date, p: MarketParams, n: int, spx: Sequence[float]) -> tuple[float, ...]:
    """VIX ≈ 100·vol, leaning against the SPX move and wobbling smoothly minute to minute."""
    rng = _rng(session_date, p, "vix")
    knots = [rng.uniform(-1.0, 1.0) for _ in range(n // 60 + 2)]
    base, s0 = 100.0 * p.volatility, p.spx_start
    out = []
    for sec, s in enumerate(spx):
        k, frac = divmod(sec, 60)
        wobble = knots[k] + (knots[k + 1] - knots[k]) * frac / 60.0
        out.append(round(base * (s / s0) ** -p.vix_beta * (1.0 + p.vix_noise * wobble), 2))
    return tuple(out)


def _index_series(path: tuple[float, ...], close: float) -> IndexSeries:
    return path, tuple(itertools.accumulate(path, max)), tuple(itertools.accumulate(path, min)), close


def _make_chain(session_date: date, p: MarketParams, root: Root) -> tuple[OptionSpec, ...]:
    step = p.strike_step if root.symbol == "SPX" else p.xsp_strike_step
    start = p.spx_start * root.scale
    lo = math.ceil(start * (1 - p.strike_range) / step - 1e-9)
    hi = math.floor(start * (1 + p.strike_range) / step + 1e-9)
    strikes = [round(k * step, 6) for k in range(lo, hi + 1)]
    cls = root.trading_class
    return tuple(
        OptionSpec(
            option_con_id(session_date, right, k, root),
            right,
            k,
            session_date,
            local_symbol(session_date, right, k, cls),
            trading_class=cls,
            symbol=root.symbol,
        )
        for right in ("C", "P")
        for k in strikes
    )
