"""The report's metrics: one pure engine for paper, live and experiment trades (docs/report.md defines each).

Input is what the journal holds — `Trade` rows and their legs' `Fill`s — turned into one `TradeRow` each by
`trade_row`; `build_report` computes every figure of `icbot report` from those rows, for one mode and one period.
Nothing here reads the clock or the journal: the same rows always give the same report.

Rules that shape every figure (docs/report.md, "What counts"):

* a trade *counts* when it is closed and its P/L is known; an open, failed or unpriced trade is listed in the trade
  log, marked, and left out of every figure (never guessed);
* a win is P/L > 0, a loss P/L < 0, a scratch P/L = 0 (a trade, neither win nor loss);
* money is summed exactly (whole micro-dollars: the journal's 1e-6 grid), so a period's P/L is the sum of its parts;
* capital figures need a starting capital; without one they are None, never a made-up number.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import pairwise

from icbot.core.journal import ExitReason, Fill, Mode, Role, Trade, TradeStatus

MULTIPLIER = 100
DAYS_PER_YEAR = 365.25
MIN_CAGR_DAYS = 30  # a shorter period's return, annualised, says nothing (one good day would read as +10^100 %)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# Exits by reason: the five a trader asks about, plus `expired` (the journal admits it; nothing writes it yet).
EXIT_GROUPS = ("take_profit", "stop", "time_exit", "manual", "expired", "unknown")
_GROUP_OF: Mapping[ExitReason, str] = {
    ExitReason.TAKE_PROFIT: "take_profit",
    ExitReason.EXPERIMENT_TAKE_PROFIT: "take_profit",
    ExitReason.STOP: "stop",
    ExitReason.EXPERIMENT_STOP: "stop",
    ExitReason.TIME_EXIT: "time_exit",
    ExitReason.EXPERIMENT_TIME_EXIT: "time_exit",
    ExitReason.MANUAL: "manual",
    ExitReason.EXPIRED: "expired",
}

# The four legs in the order the trade log shows them (the order of the BAG: long put, short put, short call,
# long call), with the right and the action of the entry.
LEG_NAMES = ("long_put", "short_put", "short_call", "long_call")
_LEG_SHAPE = {
    "long_put": ("P", "BUY"),
    "short_put": ("P", "SELL"),
    "short_call": ("C", "SELL"),
    "long_call": ("C", "BUY"),
}

# Marks on a trade row (docs/report.md): why it does not count, or what is incomplete about it.
OPEN = "open"
FAILED = "failed"
PENDING = "pending"
PNL_UNKNOWN = "pnl_unknown"
COMMISSION_MISSING = "commission_missing"
NO_COMMISSIONS = "no_commissions"  # experiment trades: hypothetical, IB charged nothing


def exit_group(reason: ExitReason | None) -> str:
    """The exit reason as the report groups it (an experiment's `experiment_stop` is a stop)."""
    return "unknown" if reason is None else _GROUP_OF.get(reason, "unknown")


# -- one trade -------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Leg:
    """One leg of a condor with its executions: the average price it opened and closed at, and its commissions.

    Prices are quantity-weighted averages of the leg's executions (several when an order filled in parts); a
    commission is None when any of the leg's executions lacks IB's report (or the leg has none).
    """

    name: str  # one of LEG_NAMES
    right: str  # "P" | "C"
    action: str  # the entry's side of this leg: "BUY" | "SELL"
    strike: float | None
    open_price: float | None = None
    close_price: float | None = None
    open_quantity: float = 0.0
    close_quantity: float = 0.0
    open_commission: float | None = None
    close_commission: float | None = None


@dataclass(frozen=True, slots=True)
class TradeRow:
    """One trade as every output shows it: the journal's figures plus what the report derives from them."""

    trade_date: date
    mode: Mode
    status: TradeStatus
    contracts: int | None
    legs: tuple[Leg, ...]
    put_delta: float | None
    call_delta: float | None
    put_delta_vs_target: float | None
    call_delta_vs_target: float | None
    spx_at_entry: float | None
    spx_at_exit: float | None
    vix: float | None
    mid_credit: float | None  # the combo mid at 09:32 as a credit (positive)
    natural_credit: float | None  # the natural price at 09:32 as a credit
    credit: float | None  # the real credit from the legs' executions
    fill_vs_mid: float | None  # credit − mid credit, per condor (negative: filled below the mid)
    fill_vs_mid_usd: float | None  # the same in dollars for all contracts
    slippage_pct: float | None  # (mid − credit) / (mid − natural) × 100: 0 = at the mid, 100 = at the natural
    ladder_rungs: int | None
    seconds_to_fill: float | None
    opened_at: datetime | None
    closed_at: datetime | None
    minutes_in_trade: float | None
    exit_reason: str  # the group (EXIT_GROUPS); "" while the trade is not closed
    exit_reason_raw: str | None  # the journal's word
    exit_debit: float | None
    premium: float | None  # credit × 100 × contracts
    entry_commission: float | None
    exit_commission: float | None
    pnl: float | None
    flags: tuple[str, ...] = ()

    @property
    def counted(self) -> bool:
        """Closed with a known P/L: the trades every metric is computed from."""
        return self.status is TradeStatus.CLOSED and self.pnl is not None

    @property
    def weekday(self) -> str:
        return WEEKDAYS[self.trade_date.weekday()]

    @property
    def commissions(self) -> float | None:
        if self.entry_commission is None and self.exit_commission is None:
            return None
        return _dollars(sum(_micros(x) for x in (self.entry_commission, self.exit_commission) if x is not None))

    @property
    def spx_move(self) -> float | None:
        """SPX at the exit minus SPX at the entry, only when the journal holds both."""
        if self.spx_at_entry is None or self.spx_at_exit is None:
            return None
        return _dollars(_micros(self.spx_at_exit) - _micros(self.spx_at_entry))


def trade_row(
    trade: Trade,
    fills: Sequence[Fill] = (),
    *,
    target_delta: float,
    spx_at_exit: float | None = None,
    commission_missing: bool | None = None,
) -> TradeRow:
    """`trade` (a journal row) and its legs' executions (`Store.fills` of its day and mode) as a report row.

    Without `fills` the row has its strikes but no leg prices; `commission_missing` then says whether any of the
    day's executions lacks IB's commission report (None: judge from `fills`).
    """
    qty = trade.quantity
    mid = None if trade.mid_at_decision is None else -trade.mid_at_decision
    natural = None if trade.natural_at_decision is None else -trade.natural_at_decision
    credit = trade.credit
    fill_vs_mid = fill_usd = slippage = None
    if credit is not None and mid is not None:
        fill_vs_mid = _dollars(_micros(credit) - _micros(mid))
        if qty:
            fill_usd = _dollars((_micros(credit) - _micros(mid)) * MULTIPLIER * qty)
        if natural is not None and mid - natural > 0:
            slippage = round((mid - credit) / (mid - natural) * 100, 6)
    premium = None if credit is None or not qty else _dollars(_micros(credit) * MULTIPLIER * qty)
    legs = _legs(trade, fills)
    if commission_missing is None:
        commission_missing = any(f.commission is None for f in fills)
    flags = _flags(trade, commission_missing)
    return TradeRow(
        trade_date=trade.trade_date,
        mode=trade.mode,
        status=trade.status,
        contracts=qty,
        legs=legs,
        put_delta=trade.put_delta,
        call_delta=trade.call_delta,
        put_delta_vs_target=_vs(trade.put_delta, target_delta),
        call_delta_vs_target=_vs(trade.call_delta, target_delta),
        spx_at_entry=trade.spx_at_entry,
        spx_at_exit=spx_at_exit,
        vix=trade.vix,
        mid_credit=mid,
        natural_credit=natural,
        credit=credit,
        fill_vs_mid=fill_vs_mid,
        fill_vs_mid_usd=fill_usd,
        slippage_pct=slippage,
        ladder_rungs=trade.ladder_attempts,
        seconds_to_fill=trade.seconds_to_fill,
        opened_at=trade.entry_filled_at,
        closed_at=trade.exited_at,
        minutes_in_trade=trade.minutes_in_trade,
        exit_reason=exit_group(trade.exit_reason) if trade.status is TradeStatus.CLOSED else "",
        exit_reason_raw=None if trade.exit_reason is None else str(trade.exit_reason),
        exit_debit=trade.exit_debit,
        premium=premium,
        entry_commission=trade.entry_commission,
        exit_commission=trade.exit_commission,
        pnl=trade.pnl,
        flags=flags,
    )


def is_traded(trade: Trade) -> bool:
    """A trade day that had risk on (or may have had): the trade log lists these; `no_trade` days it counts."""
    return trade.status in (TradeStatus.CLOSED, TradeStatus.OPEN, TradeStatus.FAILED) or (
        trade.status is TradeStatus.PENDING and trade.entry_order_ref is not None
    )


def _vs(delta: float | None, target: float) -> float | None:
    return None if delta is None else _dollars(_micros(delta) - _micros(target))


def _flags(trade: Trade, commission_missing: bool) -> tuple[str, ...]:
    flags: list[str] = []
    if trade.status is TradeStatus.OPEN:
        flags.append(OPEN)
    elif trade.status is TradeStatus.FAILED:
        flags.append(FAILED)
    elif trade.status is TradeStatus.PENDING:
        flags.append(PENDING)
    elif trade.status is TradeStatus.CLOSED and trade.pnl is None:
        flags.append(PNL_UNKNOWN)
    if trade.experiment:
        flags.append(NO_COMMISSIONS)
    elif trade.status is TradeStatus.CLOSED and trade.pnl is not None:
        unreported = trade.entry_commission is None or (trade.exit_debit is not None and trade.exit_commission is None)
        if commission_missing or unreported:
            flags.append(COMMISSION_MISSING)
    return tuple(flags)


def _legs(trade: Trade, fills: Sequence[Fill]) -> tuple[Leg, ...]:
    strikes = {
        "long_put": trade.long_put,
        "short_put": trade.short_put,
        "short_call": trade.short_call,
        "long_call": trade.long_call,
    }
    if all(s is None for s in strikes.values()):
        return ()
    by_leg: dict[tuple[str | None, int | None], tuple[list[Fill], list[Fill]]] = {}
    for f in fills:
        opening, closing = by_leg.setdefault((f.right, None if f.strike is None else _micros(f.strike)), ([], []))
        if f.role is Role.ENTRY:
            opening.append(f)
        elif f.role.is_exit or f.role is Role.CLOSE:
            closing.append(f)
    legs = []
    for name in LEG_NAMES:
        right, action = _LEG_SHAPE[name]
        strike = strikes[name]
        opening, closing = by_leg.get((right, None if strike is None else _micros(strike)), ([], []))
        open_qty, open_price, open_comm = _executed(opening)
        close_qty, close_price, close_comm = _executed(closing)
        legs.append(
            Leg(name, right, action, strike, open_price, close_price, open_qty, close_qty, open_comm, close_comm)
        )
    return tuple(legs)


def _executed(fills: Sequence[Fill]) -> tuple[float, float | None, float | None]:
    """Quantity, average price (quantity-weighted) and commissions of one leg's executions in one direction.

    The commission is None when any execution lacks IB's report, or there is none.
    """
    qty = value = commission = 0.0
    complete = bool(fills)
    for f in fills:
        qty += f.quantity
        value += f.price * f.quantity
        if f.commission is None:
            complete = False
        else:
            commission += f.commission
    price = round(value / qty, 6) + 0.0 if qty else None
    return qty, price, round(commission, 6) + 0.0 if complete else None


# -- figures of a group of trades ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Stats:
    """Trade statistics of a group of counted trades (all of a period, a year, a month, a weekday)."""

    trades: int = 0
    wins: int = 0
    losses: int = 0
    scratches: int = 0
    win_rate: float | None = None  # % of trades, None without trades
    total_pnl: float = 0.0
    pnl_per_trade: float | None = None
    avg_winner: float | None = None
    avg_loser: float | None = None
    largest_winner: float | None = None
    largest_loser: float | None = None
    gross_profit: float = 0.0
    gross_loss: float = 0.0  # ≤ 0
    profit_factor: float | None = None  # gross profit / |gross loss|; None without a loss
    longest_losing_streak: int = 0
    total_premium: float = 0.0
    capture_rate: float | None = None  # % : total P/L / total premium
    avg_minutes_in_trade: float | None = None


def stats(rows: Iterable[TradeRow]) -> Stats:
    """The statistics of the counted rows among `rows`, taken in the order given (streaks follow it)."""
    pnls: list[int] = []  # micro-dollars
    premium = 0
    minutes: list[float] = []
    streak = longest = 0
    for row in rows:
        if not row.counted:
            continue
        assert row.pnl is not None
        p = _micros(row.pnl)
        pnls.append(p)
        if row.premium is not None:
            premium += _micros(row.premium)
        if row.minutes_in_trade is not None:
            minutes.append(row.minutes_in_trade)
        streak = streak + 1 if p < 0 else 0
        longest = max(longest, streak)
    if not pnls:
        return Stats()
    winners = [p for p in pnls if p > 0]
    losers = [p for p in pnls if p < 0]
    total = sum(pnls)
    gross_profit, gross_loss = sum(winners), sum(losers)
    return Stats(
        trades=len(pnls),
        wins=len(winners),
        losses=len(losers),
        scratches=len(pnls) - len(winners) - len(losers),
        win_rate=round(len(winners) / len(pnls) * 100, 6),
        total_pnl=_dollars(total),
        pnl_per_trade=_dollars(round(total / len(pnls))),
        avg_winner=_dollars(round(gross_profit / len(winners))) if winners else None,
        avg_loser=_dollars(round(gross_loss / len(losers))) if losers else None,
        largest_winner=_dollars(max(winners)) if winners else None,
        largest_loser=_dollars(min(losers)) if losers else None,
        gross_profit=_dollars(gross_profit),
        gross_loss=_dollars(gross_loss),
        profit_factor=round(gross_profit / -gross_loss, 6) if losers else None,
        longest_losing_streak=longest,
        total_premium=_dollars(premium),
        capture_rate=round(total / premium * 100, 6) if premium > 0 else None,
        avg_minutes_in_trade=round(statistics.fmean(minutes), 4) if minutes else None,
    )


# -- capital, equity and drawdown --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Capital:
    """The capital the account had before the mode's first trade, and where that number comes from."""

    amount: float
    source: str  # e.g. "--starting-capital", "net liquidation journaled on 2026-11-24"


@dataclass(frozen=True, slots=True)
class EquityPoint:
    day: date
    equity: float  # capital (or, without a starting capital, the cumulative P/L) after the day's trade
    pnl: float  # the day's P/L (0 for the starting point)
    drawdown: float  # peak − equity, dollars, ≥ 0
    drawdown_pct: float | None  # drawdown / peak × 100; None without a starting capital


@dataclass(frozen=True, slots=True)
class Drawdown:
    max_drawdown: float = 0.0  # dollars, ≥ 0
    max_drawdown_pct: float | None = None  # % of the peak it fell from; None without a starting capital
    peak_day: date | None = None  # where the deepest drawdown (in $) started
    trough_day: date | None = None
    recovered: bool = True  # equity got back to that peak afterwards
    current: float = 0.0  # the drawdown at the end of the period, dollars


def equity_curve(
    start_day: date | None, start_equity: float, rows: Sequence[TradeRow], *, capital: bool
) -> list[EquityPoint]:
    """Equity after each counted trade, starting at `start_equity` on `start_day` (omitted when None).

    Without a starting capital (`capital` False) the curve is the cumulative P/L from 0 and percentages are None.
    """
    points: list[EquityPoint] = []
    equity = _micros(start_equity)
    peak = equity
    if start_day is not None:
        points.append(EquityPoint(start_day, _dollars(equity), 0.0, 0.0, 0.0 if capital else None))
    for row in rows:
        if not row.counted:
            continue
        assert row.pnl is not None
        pnl = _micros(row.pnl)
        equity += pnl
        peak = max(peak, equity)
        dd = peak - equity
        pct = round(dd / peak * 100, 6) if capital and peak > 0 else None
        points.append(EquityPoint(row.trade_date, _dollars(equity), _dollars(pnl), _dollars(dd), pct))
    return points


def drawdown(points: Sequence[EquityPoint]) -> Drawdown:
    """The deepest fall from a running peak (in $ and, separately, in %), and whether it was recovered."""
    if not points:
        return Drawdown()
    peak, peak_day = points[0].equity, points[0].day
    deepest = 0.0
    deepest_peak: tuple[float, date] | None = None
    trough_day: date | None = None
    trough_index = 0
    for i, p in enumerate(points):
        if p.equity >= peak:
            peak, peak_day = p.equity, p.day
        if p.drawdown > deepest:
            deepest, deepest_peak, trough_day, trough_index = p.drawdown, (peak, peak_day), p.day, i
    pcts = [p.drawdown_pct for p in points if p.drawdown_pct is not None]
    recovered = deepest_peak is None or any(p.equity >= deepest_peak[0] for p in points[trough_index + 1 :])
    return Drawdown(
        max_drawdown=deepest,
        max_drawdown_pct=max(pcts) if pcts else None,
        peak_day=None if deepest_peak is None else deepest_peak[1],
        trough_day=trough_day,
        recovered=recovered,
        current=points[-1].drawdown,
    )


def cagr(start_equity: float, end_equity: float, days: int) -> float | None:
    """Compound annual growth in %, from `days` calendar days; None when it cannot be annualised."""
    if start_equity <= 0 or days <= 0:
        return None
    if end_equity <= 0:
        return -100.0
    exponent = math.log(end_equity / start_equity) * DAYS_PER_YEAR / days
    if exponent > 700:  # e^700 ≈ 1e304: a tiny period's gain annualised beyond any meaning
        return None
    return round((math.exp(exponent) - 1) * 100, 6)


# -- breakdowns --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PeriodStats:
    """One year, month or weekday: its statistics and, for years and months, its return and drawdown."""

    label: str  # "2026", "2026-11", "Mon"
    stats: Stats
    start_equity: float | None = None
    return_pct: float | None = None  # P/L / equity at its start × 100 (needs a starting capital)
    max_drawdown: float = 0.0  # within the period, from the equity it started with
    max_drawdown_pct: float | None = None


@dataclass(frozen=True, slots=True)
class ExitStats:
    count: int = 0
    pnl: float = 0.0


@dataclass(frozen=True, slots=True)
class FillQuality:
    trades: int = 0  # trades with a credit and a mid at 09:32
    avg_fill_vs_mid: float | None = None  # per condor, price points
    total_fill_vs_mid_usd: float | None = None
    avg_slippage_pct: float | None = None  # % of the mid-to-natural distance
    avg_ladder_rungs: float | None = None
    avg_seconds_to_fill: float | None = None
    median_seconds_to_fill: float | None = None
    max_seconds_to_fill: float | None = None


@dataclass(frozen=True, slots=True)
class DeltaStats:
    target: float
    avg_put_delta: float | None = None
    avg_call_delta: float | None = None
    avg_put_vs_target: float | None = None
    avg_call_vs_target: float | None = None
    mean_abs_vs_target: float | None = None  # both sides together


@dataclass(frozen=True, slots=True)
class MarketStats:
    avg_vix: float | None = None
    min_vix: float | None = None
    max_vix: float | None = None
    avg_spx_at_entry: float | None = None
    spx_move_trades: int = 0  # trades whose journal holds SPX at the exit as well
    avg_abs_spx_move: float | None = None


@dataclass(frozen=True, slots=True)
class Report:
    """Everything `icbot report` shows for one mode over one period."""

    mode: str
    start: date | None  # the period (None: no trade and no --from/--to)
    end: date | None
    period_days: int
    stats: Stats
    capital: Capital | None
    starting_capital: float | None  # at the period's start: the capital plus the P/L of earlier trades
    ending_capital: float | None
    cagr: float | None
    mar: float | None
    drawdown: Drawdown
    equity: tuple[EquityPoint, ...]
    exit_reasons: Mapping[str, ExitStats]
    fill: FillQuality
    deltas: DeltaStats
    market: MarketStats
    by_year: tuple[PeriodStats, ...]
    by_month: tuple[PeriodStats, ...]
    by_weekday: tuple[PeriodStats, ...]
    rows: tuple[TradeRow, ...]  # every traded day of the period, counted or not, by date
    not_counted: Mapping[str, int]  # open, failed, pending, pnl_unknown → how many
    commission_missing: int
    no_trade_days: int
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def counted(self) -> tuple[TradeRow, ...]:
        return tuple(r for r in self.rows if r.counted)


def build_report(
    rows: Sequence[TradeRow],
    *,
    mode: str,
    target_delta: float,
    start: date | None = None,
    end: date | None = None,
    capital: Capital | None = None,
    no_trade_days: int = 0,
) -> Report:
    """The report of `mode` over [start, end] (inclusive; None: open-ended) from all of the mode's rows.

    `rows` may include trades before `start`: their P/L moves the capital the period starts with. `capital` is
    the capital before the mode's first trade. `no_trade_days` is how many journaled days of the period had no
    trade (for the summary only: a day without a trade changes no figure but the calendar time of CAGR).
    """
    rows = sorted(rows, key=lambda r: r.trade_date)
    if any(r.mode != mode for r in rows):
        raise ValueError(f"a report is for one mode ({mode}); got rows of {sorted({str(r.mode) for r in rows})}")
    inside = [r for r in rows if (start is None or r.trade_date >= start) and (end is None or r.trade_date <= end)]
    before = [r for r in rows if start is not None and r.trade_date < start]
    counted = [r for r in inside if r.counted]
    overall = stats(counted)

    first = start or (counted[0].trade_date if counted else None)
    last = end or (counted[-1].trade_date if counted else None)
    period_days = (last - first).days + 1 if first is not None and last is not None and last >= first else 0

    prior = sum(_micros(r.pnl) for r in before if r.counted and r.pnl is not None)
    has_capital = capital is not None
    start_equity = _dollars(_micros(capital.amount) + prior) if capital is not None else 0.0
    points = equity_curve(first, start_equity, counted, capital=has_capital)
    dd = drawdown(points)
    starting = start_equity if has_capital else None
    ending = _dollars(_micros(start_equity) + _micros(overall.total_pnl)) if has_capital else None
    long_enough = period_days >= MIN_CAGR_DAYS
    growth = cagr(start_equity, ending, period_days) if ending is not None and counted and long_enough else None
    mar = None
    if growth is not None and dd.max_drawdown_pct:
        mar = round(growth / dd.max_drawdown_pct, 6)

    equity_before = _equity_before(points)
    notes = []
    if capital is None:
        notes.append("no starting capital: CAGR, returns, drawdown % and MAR need one")
    elif counted and not long_enough:
        notes.append(f"CAGR and MAR need at least {MIN_CAGR_DAYS} calendar days; the period has {period_days}")
    elif period_days < 365 and growth is not None:
        notes.append(f"CAGR annualised from {period_days} calendar days")
    if growth is None and ending is not None and counted and ending > 0 and long_enough:
        notes.append("CAGR not shown: the period is too short to annualise its gain")
    not_counted: dict[str, int] = {}
    for r in inside:
        if not r.counted:
            why = next((f for f in r.flags if f in (OPEN, FAILED, PENDING, PNL_UNKNOWN)), PNL_UNKNOWN)
            not_counted[why] = not_counted.get(why, 0) + 1
    return Report(
        mode=mode,
        start=first,
        end=last,
        period_days=period_days,
        stats=overall,
        capital=capital,
        starting_capital=starting,
        ending_capital=ending,
        cagr=growth,
        mar=mar,
        drawdown=dd,
        equity=tuple(points),
        exit_reasons=exit_reasons(counted),
        fill=fill_quality(counted),
        deltas=delta_stats(counted, target_delta),
        market=market_stats(counted),
        by_year=_periods(counted, lambda d: f"{d.year:04d}", equity_before, has_capital),
        by_month=_periods(counted, lambda d: f"{d.year:04d}-{d.month:02d}", equity_before, has_capital),
        by_weekday=_weekdays(counted),
        rows=tuple(inside),
        not_counted=not_counted,
        commission_missing=sum(1 for r in counted if COMMISSION_MISSING in r.flags),
        no_trade_days=no_trade_days,
        notes=tuple(notes),
    )


def exit_reasons(rows: Iterable[TradeRow]) -> dict[str, ExitStats]:
    """Count and P/L of the counted trades per exit reason (every group present, zero when unused)."""
    counts = dict.fromkeys(EXIT_GROUPS, 0)
    pnl = dict.fromkeys(EXIT_GROUPS, 0)
    for r in rows:
        if r.counted and r.pnl is not None:
            counts[r.exit_reason] += 1
            pnl[r.exit_reason] += _micros(r.pnl)
    return {g: ExitStats(counts[g], _dollars(pnl[g])) for g in EXIT_GROUPS}


def fill_quality(rows: Iterable[TradeRow]) -> FillQuality:
    rows = [r for r in rows if r.counted]
    priced = [r for r in rows if r.fill_vs_mid is not None]
    slip = [r.slippage_pct for r in rows if r.slippage_pct is not None]
    rungs = [r.ladder_rungs for r in rows if r.ladder_rungs is not None]
    secs = [r.seconds_to_fill for r in rows if r.seconds_to_fill is not None]
    usd = [r.fill_vs_mid_usd for r in priced if r.fill_vs_mid_usd is not None]
    return FillQuality(
        trades=len(priced),
        avg_fill_vs_mid=_mean([r.fill_vs_mid for r in priced if r.fill_vs_mid is not None]),
        total_fill_vs_mid_usd=_dollars(sum(_micros(x) for x in usd)) if usd else None,
        avg_slippage_pct=_mean(slip),
        avg_ladder_rungs=_mean([float(x) for x in rungs]),
        avg_seconds_to_fill=_mean(secs),
        median_seconds_to_fill=round(statistics.median(secs), 4) if secs else None,
        max_seconds_to_fill=max(secs) if secs else None,
    )


def delta_stats(rows: Iterable[TradeRow], target: float) -> DeltaStats:
    rows = [r for r in rows if r.counted]
    puts = [r.put_delta for r in rows if r.put_delta is not None]
    calls = [r.call_delta for r in rows if r.call_delta is not None]
    both = [abs(d - target) for d in (*puts, *calls)]
    return DeltaStats(
        target=target,
        avg_put_delta=_mean(puts),
        avg_call_delta=_mean(calls),
        avg_put_vs_target=_mean([d - target for d in puts]),
        avg_call_vs_target=_mean([d - target for d in calls]),
        mean_abs_vs_target=_mean(both),
    )


def market_stats(rows: Iterable[TradeRow]) -> MarketStats:
    rows = [r for r in rows if r.counted]
    vix = [r.vix for r in rows if r.vix is not None]
    spx = [r.spx_at_entry for r in rows if r.spx_at_entry is not None]
    moves = [abs(m) for m in (r.spx_move for r in rows) if m is not None]
    return MarketStats(
        avg_vix=_mean(vix),
        min_vix=min(vix) if vix else None,
        max_vix=max(vix) if vix else None,
        avg_spx_at_entry=_mean(spx),
        spx_move_trades=len(moves),
        avg_abs_spx_move=_mean(moves),
    )


def _equity_before(points: Sequence[EquityPoint]) -> dict[date, float]:
    """The equity just before each trade day's trade (one trade per day and mode)."""
    out: dict[date, float] = {}
    for prev, cur in pairwise(points):
        out.setdefault(cur.day, prev.equity)
    return out


def _periods(
    rows: Sequence[TradeRow], key: Callable[[date], str], equity_before: Mapping[date, float], capital: bool
) -> tuple[PeriodStats, ...]:
    groups: dict[str, list[TradeRow]] = {}
    for r in rows:
        groups.setdefault(key(r.trade_date), []).append(r)
    out = []
    for label, members in groups.items():
        s = stats(members)
        start_equity = equity_before.get(members[0].trade_date, 0.0)
        points = equity_curve(members[0].trade_date, start_equity, members, capital=capital)
        dd = drawdown(points)
        ret = None
        if capital and start_equity > 0:
            ret = round(s.total_pnl / start_equity * 100, 6)
        out.append(
            PeriodStats(
                label,
                s,
                start_equity=start_equity if capital else None,
                return_pct=ret,
                max_drawdown=dd.max_drawdown,
                max_drawdown_pct=dd.max_drawdown_pct if capital else None,
            )
        )
    return tuple(out)


def _weekdays(rows: Sequence[TradeRow]) -> tuple[PeriodStats, ...]:
    present = sorted({r.trade_date.weekday() for r in rows} | {0, 1, 2, 3, 4})
    return tuple(PeriodStats(WEEKDAYS[d], stats(r for r in rows if r.trade_date.weekday() == d)) for d in present)


# -- the trade log: filters and sorting -----------------------------------------------------------------------------
SORT_KEYS: Mapping[str, Callable[[TradeRow], float | str | None]] = {
    "date": lambda r: r.trade_date.isoformat(),
    "pnl": lambda r: r.pnl,
    "credit": lambda r: r.credit,
    "premium": lambda r: r.premium,
    "vix": lambda r: r.vix,
    "minutes": lambda r: r.minutes_in_trade,
    "slippage": lambda r: r.slippage_pct,
    "fill": lambda r: r.seconds_to_fill,
    "reason": lambda r: r.exit_reason,
    "weekday": lambda r: r.trade_date.weekday(),
}


@dataclass(frozen=True, slots=True)
class LogFilter:
    """Which rows the trade log shows (the metrics are never filtered: docs/report.md)."""

    exit_reasons: frozenset[str] = frozenset()
    weekdays: frozenset[int] = frozenset()  # 0 = Monday
    min_vix: float | None = None
    max_vix: float | None = None

    def keeps(self, row: TradeRow) -> bool:
        if self.exit_reasons and (row.exit_reason or row.status.value) not in self.exit_reasons:
            return False
        if self.weekdays and row.trade_date.weekday() not in self.weekdays:
            return False
        if self.min_vix is not None and (row.vix is None or row.vix < self.min_vix):
            return False
        return not (self.max_vix is not None and (row.vix is None or row.vix > self.max_vix))


def trade_log(
    rows: Iterable[TradeRow],
    *,
    where: LogFilter | None = None,
    sort: str = "date",
    descending: bool = False,
    last: int | None = None,
) -> list[TradeRow]:
    """The rows the filter keeps; of those the `last` N by date (None: all); ordered by `sort`.

    Rows without a value for the sort key go last, whichever the direction.
    """
    if sort not in SORT_KEYS:
        raise ValueError(f"cannot sort by {sort!r}; one of {', '.join(SORT_KEYS)}")
    kept = sorted((r for r in rows if where is None or where.keeps(r)), key=lambda r: r.trade_date)
    if last is not None:
        kept = kept[-last:] if last > 0 else []
    get = SORT_KEYS[sort]
    known = [r for r in kept if get(r) is not None]
    missing = [r for r in kept if get(r) is None]
    known.sort(key=lambda r: (get(r), r.trade_date.isoformat()), reverse=descending)
    return known + missing


# -- numbers ---------------------------------------------------------------------------------------------------------
def _micros(value: float) -> int:
    """Dollars (or prices) as whole micro-units: the journal stores money rounded to 1e-6, so sums are exact."""
    return round(value * 1_000_000)


def _dollars(micros: int) -> float:
    """Micro-units back to the float a journal column would hold (4350000 → 4.35), never −0.0."""
    return micros / 1_000_000 + 0.0


def _mean(values: Sequence[float]) -> float | None:
    return round(statistics.fmean(values), 6) if values else None
