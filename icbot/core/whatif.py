"""What-if replays: a recorded trade day walked again under a variant of the live rules (docs/whatif.md).

The live bot trades exactly the configured strategy; this module only answers "what would another rule have
done on the days icbot traded", from the 1-minute bars `check` recorded. It never decides anything live and has
no way to: it is pure (no I/O, no clock) and returns numbers.

Honesty rules that shape every function here:

* the exit rules are the live ones — `core.exits.exit_prices` for the prices and `core.settlement.experiment_exit`
  for the order in which they fire (profit target, stop, time exit) — not a second copy of them;
* a fill is the recorded mid plus a stated slippage per leg, toward the side that costs money;
* where the bars cannot answer (a missing minute, a strike not recorded, bars that end before any exit) the
  result says so in `gaps` and has no P/L, rather than a number filled in from elsewhere.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from statistics import NormalDist

from icbot.core.actions import SaveTrade
from icbot.core.journal import Event, EventStatus, Trade, TradeStatus
from icbot.core.settlement import Bar, ExitRules, experiment_exit, touched_sides
from icbot.core.zones import NEW_YORK

MULTIPLIER = 100
MINUTE = timedelta(minutes=1)
INDEX = "SPX"  # the contract name of the underlying's bars (the configured product's index, SPX or XSP)
TOUCH_ACTIONS = ("close", "roll")
_KEYS = {
    "tp": "profit_target_pct",
    "stop": "stop_multiple",
    "time": "time_exit",
    "delta": "target_delta",
    "wing": "wing_width",
    "touch": "touch",
}
_NAME = re.compile(r"^[A-Za-z0-9_.+-]{1,40}$")


BARS_PHASE = "bars"  # the events `check` journals while recording; status ok = the day's bars are complete


def recording_due(trade: Trade | None, complete: bool) -> bool:
    """A day still to record: its trade filled (open or closed) and its bars not yet complete."""
    return (
        trade is not None
        and trade.entry_filled_at is not None
        and trade.status in (TradeStatus.OPEN, TradeStatus.CLOSED)
        and not complete
    )


def is_complete(events: Iterable[Event]) -> bool:
    """Whether the day's recording journaled its last, complete round."""
    return any(str(e.phase) == BARS_PHASE and e.status is EventStatus.OK for e in events)


class VariantError(ValueError):
    """A variant that cannot be replayed as written; the message names the variant and the key."""


# -- variants --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TouchRule:
    """What to do the first minute SPX reaches a short strike: close that side, or roll it to a delta."""

    action: str  # "close" | "roll"
    delta: float | None = None  # the roll's target delta in points

    def __str__(self) -> str:
        return "close" if self.action == "close" else f"roll:{self.delta:g}"


@dataclass(frozen=True, slots=True)
class Variant:
    """A named set of overrides of the live rules; None keeps the live value."""

    name: str
    profit_target_pct: float | None = None
    stop_multiple: float | None = None
    time_exit: time | None = None
    target_delta: float | None = None
    wing_width: float | None = None
    touch: TouchRule | None = None

    @property
    def changes_entry(self) -> bool:
        return self.target_delta is not None or self.wing_width is not None

    def describe(self) -> str:
        """The overrides as the command line writes them (`tp=50,stop=2`), or `live rules`."""
        parts = []
        for short, attr in _KEYS.items():
            value = getattr(self, attr)
            if value is None:
                continue
            text = value.strftime("%H:%M") if isinstance(value, time) else str(value)
            if isinstance(value, float):
                text = f"{value:g}"
            parts.append(f"{short}={text}")
        return ",".join(parts) or "live rules"


LIVE = Variant("live")


def parse_variant(text: str) -> Variant:
    """`[name:]key=value,...` (keys tp, stop, time, delta, wing, touch) as a Variant; `live` is the live rules.

    Examples: `tp=50`, `late:time=14:00`, `roll30:touch=roll:30`, `close:touch=close,stop=2`.
    """
    text = text.strip()
    if text == "live":
        return LIVE
    name, sep, body = text.partition(":")
    unnamed = not sep or "=" in name
    if unnamed:
        name, body = "unnamed", text
    if not body:
        raise VariantError(f"variant {text!r}: no overrides (write e.g. tp=50,stop=2 or touch=roll:30)")
    values: dict[str, object] = {}
    for item in body.split(","):
        key, eq, value = item.strip().partition("=")
        if not eq or key not in _KEYS:
            raise VariantError(f"variant {name!r}: {item.strip()!r} is not key=value with a key in {', '.join(_KEYS)}")
        values[_KEYS[key]] = value.strip()
    variant = variant_from_mapping(name, values)
    return replace(variant, name=text) if unnamed else variant


def variant_from_mapping(name: str, values: Mapping[str, object]) -> Variant:
    """A Variant from its overrides by their config names (`whatif.variants.<name>` in config.yaml)."""
    if not _NAME.match(name):
        raise VariantError(f"variant name {name!r}: use 1–40 letters, digits, '_', '-', '.', '+'")
    if name == "live":
        raise VariantError("variant name 'live' is reserved for the live rules")
    known = set(_KEYS.values())
    unknown = sorted(set(values) - known)
    if unknown:
        raise VariantError(f"variant {name!r}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(known))})")
    if not values:
        raise VariantError(f"variant {name!r}: no overrides")
    kw: dict[str, object] = {}
    for key, raw in values.items():
        if key == "time_exit":
            kw[key] = _time(name, raw)
        elif key == "touch":
            kw[key] = _touch(name, raw)
        else:
            kw[key] = _number(name, key, raw)
    return Variant(name, **kw)  # type: ignore[arg-type]


_RANGES = {
    "profit_target_pct": (0.0, 100.0, "between 0 and 100 (exclusive)"),
    "stop_multiple": (1.0, 100.0, "above 1 and at most 100"),
    "target_delta": (1.0, 50.0, "between 1 and 50"),
    "wing_width": (0.0, 500.0, "above 0 and at most 500"),
}


def _number(name: str, key: str, raw: object) -> float:
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise VariantError(f"variant {name!r}: {key} must be a number, not {raw!r}") from None
    lo, hi, words = _RANGES[key]
    ok = lo < value < hi if key == "profit_target_pct" else lo < value <= hi
    if key == "target_delta":
        ok = lo <= value <= hi
    if not ok or math.isnan(value):
        raise VariantError(f"variant {name!r}: {key} {value:g} must be {words}")
    return value


def _time(name: str, raw: object) -> time:
    if isinstance(raw, time):
        value = raw
    else:
        try:
            value = time.fromisoformat(str(raw))
        except ValueError:
            raise VariantError(f"variant {name!r}: time_exit {raw!r} is not HH:MM") from None
    if not time(9, 31) <= value <= time(16, 0):
        raise VariantError(f"variant {name!r}: time_exit {value:%H:%M} must be between 09:31 and 16:00 ET")
    return value


def _touch(name: str, raw: object) -> TouchRule:
    text = str(raw).strip()
    if text == "close":
        return TouchRule("close")
    action, _, delta = text.partition(":")
    if action == "roll" and delta:
        try:
            value = float(delta)
        except ValueError:
            value = math.nan
        if 5.0 <= value <= 50.0:
            return TouchRule("roll", value)
    raise VariantError(f"variant {name!r}: touch {text!r} must be 'close' or 'roll:N' with N between 5 and 50")


# -- the live rules a variant overrides -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LiveRules:
    """The configuration's rules that a replay needs (config.strikes, config.exits, the combo tick)."""

    profit_target_pct: float
    stop_multiple: float
    time_exit: time
    target_delta: float
    max_delta: float
    min_delta: float
    tie_tolerance: float
    wing_width: float
    tick: float


# -- a recorded day ------------------------------------------------------------------------------------------------
def contract_name(right: str, strike: float) -> str:
    """The bars table's name of an option: `P5900`, `C6025`, `P5912.5`."""
    return f"{right}{strike:g}"


@dataclass(frozen=True, slots=True)
class BarRow:
    """One stored 1-minute bar (the `bars` table): `minute` is the bar's start, `HH:MM` New York time.

    Options carry `mid` (IB's MIDPOINT close); `bid`/`ask` stay None unless a source gives them. The index
    carries its TRADES close as `mid` and the minute's `high`/`low` (what a touch is judged from)."""

    contract: str  # "SPX" (the index), "P5900", "C6025"
    minute: str
    mid: float | None
    bid: float | None = None
    ask: float | None = None
    high: float | None = None
    low: float | None = None


def parse_contract(name: str) -> tuple[str, float] | None:
    """(right, strike) of an option's bars name, None for the index."""
    if name[:1] in ("P", "C"):
        try:
            return name[0], float(name[1:])
        except ValueError:
            return None
    return None


def day_bars(trade_date: date, rows: Iterable[BarRow]) -> DayBars:
    """The stored rows of one day as the replay reads them (keyed by the instant each bar closes)."""
    options: dict[tuple[str, float], dict[datetime, float]] = {}
    index: dict[datetime, tuple[float, float, float]] = {}
    for row in rows:
        at = bar_close_instant(trade_date, row.minute)
        key = parse_contract(row.contract)
        if key is not None and row.mid is not None:
            options.setdefault(key, {})[at] = row.mid
        elif key is None and row.mid is not None:
            low = row.low if row.low is not None else row.mid
            high = row.high if row.high is not None else row.mid
            index[at] = (low, high, row.mid)
    return DayBars(options, index)


@dataclass(frozen=True, slots=True)
class DayBars:
    """One day's recorded 1-minute bars: instant of the bar's close (UTC) → mid; the index's (low, high, close)."""

    options: Mapping[tuple[str, float], Mapping[datetime, float]]
    index: Mapping[datetime, tuple[float, float, float]]


def bar_close_instant(trade_date: date, minute: str) -> datetime:
    """A bar stored as its start minute `HH:MM` (New York) closes one minute later: its close is that instant's
    price, so the walk sees a 11:29 bar at 11:30, when the 11:30 time exit would look at the market."""
    start = datetime.combine(trade_date, time.fromisoformat(minute), NEW_YORK)
    return start + MINUTE


@dataclass(frozen=True, slots=True)
class ReplayDay:
    """What the journal holds of one traded day: the trade, the deltas it saw at the decision, the bars."""

    trade: Trade
    put_deltas: Mapping[float, float]
    call_deltas: Mapping[float, float]
    bars: DayBars
    close_at: datetime  # the session's close (16:00 ET, earlier on a half day)


@dataclass(frozen=True, slots=True)
class Outcome:
    """One variant on one day. `pnl` is None when the bars cannot answer; `gaps` then says why."""

    variant: str
    trade_date: date
    pnl: float | None
    exit_reason: str | None = None  # take_profit | stop | time_exit | touch_close
    exited_at: datetime | None = None
    minutes_in_trade: float | None = None
    credit: float | None = None
    debit: float | None = None
    commissions: float = 0.0
    strikes: tuple[float, float, float, float] | None = None  # long put, short put, short call, long call
    touch: str | None = None  # what the touch rule did, in words
    gaps: tuple[str, ...] = field(default_factory=tuple)


# -- the replay -----------------------------------------------------------------------------------------------------
def replay(day: ReplayDay, variant: Variant, rules: LiveRules, *, slippage: float) -> Outcome:
    """The trade of `day` had `variant`'s rules been live; fills at the recorded mid ± `slippage` per leg.

    The entry is the live one (its strikes and its real credit) unless the variant changes the strikes; then the
    new condor is picked with the live delta rule from the deltas journaled at the decision and sold at the
    entry minute's mid less the slippage. Commissions are the live entry's commission per leg execution.
    """
    trade = day.trade
    qty = int(trade.quantity or 0)
    if trade.credit is None or trade.entry_filled_at is None or not qty or trade.short_put is None:
        return Outcome(variant.name, trade.trade_date, None, gaps=("no filled trade that day",))
    assert trade.long_put is not None and trade.short_call is not None and trade.long_call is not None
    live_strikes = (trade.long_put, trade.short_put, trade.short_call, trade.long_call)
    gaps: list[str] = []
    per_leg = (trade.entry_commission or 0.0) / (4 * qty)
    if trade.entry_commission is None and not trade.experiment:
        gaps.append("the entry's commission is not journaled: commissions left out")
    entry_at = trade.entry_filled_at
    strikes = live_strikes
    credit = trade.credit
    if variant.changes_entry:
        picked = _pick(day, variant, rules)
        if isinstance(picked, str):
            return Outcome(variant.name, trade.trade_date, None, gaps=(picked,))
        strikes = picked
        if strikes != live_strikes:
            sold = _entry_credit(day, strikes, entry_at, slippage)
            if isinstance(sold, str):
                return Outcome(variant.name, trade.trade_date, None, strikes=strikes, gaps=(sold,))
            if sold <= 0:
                return Outcome(variant.name, trade.trade_date, None, strikes=strikes, gaps=("no credit at the mid",))
            credit = sold
    time_exit_at = trade.time_exit_at
    if variant.time_exit is not None or time_exit_at is None:
        at = variant.time_exit or rules.time_exit
        time_exit_at = min(datetime.combine(trade.trade_date, at, NEW_YORK), day.close_at)
    walk = _Walk(day, replace(trade, credit=credit, time_exit_at=time_exit_at), strikes, slippage, variant, rules)
    return walk.run(per_leg, tuple(gaps))


def _pick(day: ReplayDay, variant: Variant, rules: LiveRules) -> tuple[float, float, float, float] | str:
    """The variant's condor by the live delta rule, with the rule's band moved along with a changed target."""
    from icbot.core.strikes import pick_short_strike

    target = variant.target_delta if variant.target_delta is not None else rules.target_delta
    shift = target - rules.target_delta
    rule = dict(
        target=target,
        max_delta=rules.max_delta + shift,
        min_delta=max(0.5, rules.min_delta + shift),
        tie_tolerance=rules.tie_tolerance,
    )
    width = variant.wing_width if variant.wing_width is not None else rules.wing_width
    short_put = pick_short_strike(day.put_deltas, side="put", **rule)
    short_call = pick_short_strike(day.call_deltas, side="call", **rule)
    if short_put is None or short_call is None:
        return f"no strike within {rule['min_delta']:g}–{rule['max_delta']:g} delta among the deltas journaled at entry"
    return (short_put - width, short_put, short_call, short_call + width)


def _legs(strikes: Sequence[float]) -> list[tuple[str, str, float]]:
    """(action, right, strike) of the four legs in BAG order: long put, short put, short call, long call."""
    lp, sp, sc, lc = strikes
    return [("BUY", "P", lp), ("SELL", "P", sp), ("SELL", "C", sc), ("BUY", "C", lc)]


def _price_at(day: ReplayDay, right: str, strike: float, at: datetime) -> float | str:
    """The mid at `at`: the bar that closed last before it, else the one closing next, or why there is none."""
    series = day.bars.options.get((right, strike))
    if not series:
        return f"strike {contract_name(right, strike)} not recorded"
    minute = at.replace(second=0, microsecond=0)
    for t in (minute, minute + MINUTE):
        if t in series:
            return series[t]
    return f"no bar of {contract_name(right, strike)} at {at.astimezone(NEW_YORK):%H:%M} ET"


def _entry_credit(day: ReplayDay, strikes: Sequence[float], at: datetime, slippage: float) -> float | str:
    total = 0.0
    for action, right, strike in _legs(strikes):
        mid = _price_at(day, right, strike, at)
        if isinstance(mid, str):
            return mid
        total += (mid - slippage) if action == "SELL" else -(mid + slippage)
    return round(total, 6)


def _fill(action: str, mid: float, slippage: float) -> float:
    """What closing one leg costs (+) or brings (−): buying back a short pays above the mid, selling a long gets
    below it."""
    return (mid + slippage) if action == "SELL" else -(mid - slippage)


class _Walk:
    """The minute walk of one variant: the live exit rules until the first touch, the touch rule, then the live
    exit rules again over what is left (the realised cost of a closed or rolled side carried as a constant leg)."""

    def __init__(
        self,
        day: ReplayDay,
        trade: Trade,
        strikes: tuple[float, float, float, float],
        slippage: float,
        variant: Variant,
        rules: LiveRules,
    ) -> None:
        self.day, self.trade, self.strikes, self.s, self.variant = day, trade, strikes, slippage, variant
        pct = variant.profit_target_pct if variant.profit_target_pct is not None else rules.profit_target_pct
        mult = variant.stop_multiple if variant.stop_multiple is not None else rules.stop_multiple
        self.rules = ExitRules(pct, mult, rules.tick)
        self.wing = variant.wing_width if variant.wing_width is not None else rules.wing_width

    def run(self, per_leg: float, gaps: tuple[str, ...]) -> Outcome:
        trade = self.trade
        assert trade.entry_filled_at is not None and trade.credit is not None and trade.time_exit_at is not None
        start, end = trade.entry_filled_at, min(trade.time_exit_at + MINUTE, self.day.close_at)
        legs = _legs(self.strikes)
        minutes = self._minutes(start, end)
        touch_at, sides = self._touch(start, end) if self.variant.touch is not None else (None, [])
        executions = 4
        carried = 0.0
        note = None
        if touch_at is not None:
            done, hole = self._segment(legs, [m for m in minutes if m <= touch_at], carried)
            if done is not None:
                return self._outcome(done, executions + 4, per_leg, gaps, None)
            if hole is not None:
                return self._gap(hole, gaps)
            step = self._at_touch(legs, sides, touch_at)
            if isinstance(step, str):
                return self._gap(step, gaps)
            legs, carried, extra, note = step
            executions += extra
            if not legs:
                return self._outcome((touch_at, "touch_close", carried), executions, per_leg, gaps, note)
            minutes = [m for m in minutes if m > touch_at]
        done, hole = self._segment(legs, minutes, carried)
        if done is not None:
            return self._outcome(done, executions + len(legs), per_leg, gaps, note)
        if hole is not None:
            return self._gap(hole, gaps)
        last = minutes[-1].astimezone(NEW_YORK).strftime("%H:%M") if minutes else "the entry"
        return self._gap(f"the bars end at {last} ET before any exit", gaps)

    def _segment(
        self, legs: Sequence[tuple[str, str, float]], minutes: Sequence[datetime], carried: float
    ) -> tuple[tuple[datetime, str, float] | None, str | None]:
        """Walk the minutes up to the first one a leg has no bar for: (the exit, None), or (None, the hole)."""
        holes = self._missing(legs, minutes)
        walk = [m for m in minutes if not holes or m < holes[0]]
        done = self._exit(legs, walk, carried)
        if done is not None:
            return done, None
        if holes:
            return None, f"no bar of every leg at {holes[0].astimezone(NEW_YORK):%H:%M} ET"
        return None, None

    # the market
    def _minutes(self, start: datetime, end: datetime) -> list[datetime]:
        """Every bar-close instant after the fill up to the end, whether recorded or not (a hole is a gap)."""
        first = start.replace(second=0, microsecond=0) + MINUTE
        out = []
        t = first
        while t <= end:
            out.append(t)
            t += MINUTE
        return out

    def _missing(self, legs: Sequence[tuple[str, str, float]], minutes: Sequence[datetime]) -> list[datetime]:
        return [m for m in minutes if any(m not in self.day.bars.options.get((r, k), {}) for _a, r, k in legs)]

    def _touch(self, start: datetime, end: datetime) -> tuple[datetime | None, list[str]]:
        short_put, short_call = self.strikes[1], self.strikes[2]
        for t in sorted(self.day.bars.index):
            if t <= start or t > end:
                continue
            low, high, _close = self.day.bars.index[t]
            sides = touched_sides(low, high, short_put, short_call)
            if sides:
                return t, sides
        return None, []

    def _bars(
        self, legs: Sequence[tuple[str, str, float]], minutes: Sequence[datetime], carried: float
    ) -> list[tuple[str, Sequence[Bar]]]:
        """Each leg as (action, bars) for `experiment_exit`, the mid moved by the slippage toward what closing it
        costs; `carried` (money already paid to close or roll a side) rides along as one more leg."""
        out: list[tuple[str, Sequence[Bar]]] = []
        for action, right, strike in legs:
            series = self.day.bars.options[(right, strike)]
            sign = 1.0 if action == "SELL" else -1.0
            bars = []
            for m in minutes:
                px = series[m] + sign * self.s
                bars.append((m, px, px, px, px))
            out.append((action, bars))
        if carried:
            out.append(("SELL", [(m, carried, carried, carried, carried) for m in minutes]))
        return out

    def _exit(
        self, legs: Sequence[tuple[str, str, float]], minutes: Sequence[datetime], carried: float
    ) -> tuple[datetime, str, float] | None:
        """(instant, reason, debit per condor) of the first live exit rule hit, by `experiment_exit` itself."""
        if not minutes:
            return None
        actions = experiment_exit(self.trade, self._bars(legs, minutes, carried), self.rules, now=minutes[-1])
        for action in actions:
            if isinstance(action, SaveTrade):
                f = action.fields
                reason = str(f["exit_reason"]).removeprefix("experiment_")
                return f["exited_at"], reason, float(f["exit_debit"])
        return None

    def _at_touch(
        self, legs: list[tuple[str, str, float]], sides: Sequence[str], at: datetime
    ) -> tuple[list[tuple[str, str, float]], float, int, str] | str:
        """Close (and for a roll, re-open) the touched sides at `at`: the legs left, the money carried, the leg
        executions it took, and what happened in words."""
        assert self.variant.touch is not None
        rule = self.variant.touch
        rights = {"put": "P", "call": "C"}
        touched = {rights[s] for s in sides}
        carried = 0.0
        executions = 0
        kept = [leg for leg in legs if leg[1] not in touched]
        words = []
        for action, right, strike in legs:
            if right not in touched:
                continue
            mid = self.day.bars.options[(right, strike)].get(at)
            if mid is None:
                return f"no bar of {contract_name(right, strike)} at the touch"
            carried += _fill(action, mid, self.s)
            executions += 1
        when = at.astimezone(NEW_YORK).strftime("%H:%M")
        words.append(f"{'/'.join(sorted(sides))} touched at {when} ET: closed")
        if rule.action == "roll":
            assert rule.delta is not None
            for right in sorted(touched):
                new = self._roll(right, at, rule.delta)
                if isinstance(new, str):
                    return new
                short, long_ = new
                s_mid = self.day.bars.options[(right, short)][at]
                l_mid = self.day.bars.options[(right, long_)][at]
                carried -= (s_mid - self.s) - (l_mid + self.s)
                executions += 2
                kept += [("BUY", right, long_), ("SELL", right, short)]
                words.append(f"rolled to {contract_name(right, short)}/{contract_name(right, long_)}")
        return kept, round(carried, 6), executions, ", ".join(words)

    def _roll(self, right: str, at: datetime, target: float) -> tuple[float, float] | str:
        """The recorded strike of `right` nearest `target` delta at `at` (implied from its mid), and its wing."""
        index = self.day.bars.index.get(at)
        if index is None:
            return f"no {INDEX} bar at the touch"
        spx = index[2]
        years = (self.day.close_at - at).total_seconds() / (365.0 * 86400)
        deltas: dict[float, float] = {}
        for (r, k), series in self.day.bars.options.items():
            if r != right or at not in series:
                continue
            d = implied_delta(right, spx, k, years, series[at])
            if d is not None:
                deltas[k] = d
        if not deltas:
            return f"no recorded {right} strike with a delta at the touch"
        short = min(deltas, key=lambda k: (abs(deltas[k] - target), -deltas[k]))
        if abs(deltas[short] - target) > 5.0:
            return f"no recorded {right} strike within 5 of delta {target:g} at the touch (nearest {deltas[short]:.1f})"
        long_ = short - self.wing if right == "P" else short + self.wing
        if at not in self.day.bars.options.get((right, long_), {}):
            return f"wing {contract_name(right, long_)} of the roll not recorded"
        return short, long_

    # results
    def _gap(self, why: str, gaps: tuple[str, ...]) -> Outcome:
        return Outcome(
            self.variant.name,
            self.trade.trade_date,
            None,
            credit=self.trade.credit,
            strikes=self.strikes,
            gaps=(*gaps, why),
        )

    def _outcome(
        self,
        done: tuple[datetime, str, float],
        executions: int,
        per_leg: float,
        gaps: tuple[str, ...],
        note: str | None,
    ) -> Outcome:
        at, reason, debit = done
        trade = self.trade
        assert trade.credit is not None and trade.entry_filled_at is not None
        qty = int(trade.quantity or 1)
        commissions = round(per_leg * executions * qty, 6)
        pnl = round((trade.credit - debit) * MULTIPLIER * qty - commissions, 6)
        return Outcome(
            self.variant.name,
            trade.trade_date,
            pnl,
            exit_reason=reason,
            exited_at=at,
            minutes_in_trade=round((at - trade.entry_filled_at).total_seconds() / 60, 1),
            credit=trade.credit,
            debit=round(debit, 6),
            commissions=commissions,
            strikes=self.strikes,
            touch=note,
            gaps=gaps,
        )


# -- deltas from a price ----------------------------------------------------------------------------------------
_N = NormalDist()


def bs_price(right: str, spot: float, strike: float, years: float, vol: float) -> float:
    """Black-Scholes value (no rates, no dividends: a 0DTE option's day)."""
    if years <= 0 or vol <= 0:
        return max(0.0, spot - strike) if right == "C" else max(0.0, strike - spot)
    sd = vol * math.sqrt(years)
    d1 = (math.log(spot / strike) + sd * sd / 2) / sd
    d2 = d1 - sd
    if right == "C":
        return spot * _N.cdf(d1) - strike * _N.cdf(d2)
    return strike * _N.cdf(-d2) - spot * _N.cdf(-d1)


def implied_delta(right: str, spot: float, strike: float, years: float, price: float) -> float | None:
    """|delta| in points implied by an option's mid (the volatility solved by bisection), or None when the price
    says nothing (at or below intrinsic, or above what any volatility explains).

    IB's historical bars carry no greeks, so a roll "to delta 30" at a touch is chosen by this estimate; the live
    bot never uses it (it reads IB's model greeks).
    """
    if years <= 0 or spot <= 0 or strike <= 0:
        return None
    intrinsic = max(0.0, spot - strike) if right == "C" else max(0.0, strike - spot)
    if price <= intrinsic + 1e-9:
        return None
    lo, hi = 1e-4, 10.0
    if bs_price(right, spot, strike, years, hi) < price:
        return None
    for _ in range(80):
        mid = (lo + hi) / 2
        if bs_price(right, spot, strike, years, mid) < price:
            lo = mid
        else:
            hi = mid
    sd = hi * math.sqrt(years)
    d1 = (math.log(spot / strike) + sd * sd / 2) / sd
    delta = _N.cdf(d1) if right == "C" else _N.cdf(d1) - 1.0
    return abs(delta) * 100.0


# -- what to record --------------------------------------------------------------------------------------------
def strikes_to_record(
    trade: Trade,
    put_deltas: Mapping[float, float],
    call_deltas: Mapping[float, float],
    listed: Iterable[float],
    *,
    wing_width: float,
    low_delta: float = 10.0,
    high_delta: float = 35.0,
) -> list[tuple[str, float]]:
    """The options `check` records for a day: the four legs, and per side every listed strike from the
    `high_delta` strike at entry out to the `low_delta` strike were the index to touch the short strike, plus a
    wing beyond it — what a variant can move to (docs/whatif.md).

    IB gives deltas only for the strikes streamed at entry; further strikes are placed by the volatility those
    deltas imply (a normal model of the log price). The range is a bound, chosen generously.
    """
    out: set[tuple[str, float]] = set()
    legs = (trade.long_put, trade.short_put, trade.short_call, trade.long_call)
    for right, strike in zip(("P", "P", "C", "C"), legs, strict=True):
        if strike is not None:
            out.add((right, float(strike)))
    spot = trade.spx_at_entry
    strikes = sorted(set(float(k) for k in listed))
    if spot is None or not strikes:
        return sorted(out)
    for right, deltas, short in (("P", put_deltas, trade.short_put), ("C", call_deltas, trade.short_call)):
        sd = _sd(right, spot, deltas)
        if sd is None or short is None:
            continue
        z_hi, z_lo = _N.inv_cdf(high_delta / 100), _N.inv_cdf(low_delta / 100)
        # |Δ| ≈ N(ln(K/S)/σ√T) for a put, N(ln(S/K)/σ√T) for a call; z < 0 for deltas under 50
        if right == "P":
            near = spot * math.exp(z_hi * sd)  # the high_delta strike at entry
            far = short * math.exp(z_lo * sd) - wing_width  # the low_delta strike with the index at the short
            lo, hi = far, near
        else:
            near = spot * math.exp(-z_hi * sd)
            far = short * math.exp(-z_lo * sd) + wing_width
            lo, hi = near, far
        for k in strikes:
            if lo - 1e-9 <= k <= hi + 1e-9:
                out.add((right, k))
    return sorted(out)


def _sd(right: str, spot: float, deltas: Mapping[float, float]) -> float | None:
    """σ√T implied by the journaled deltas (median over the strikes between 5 and 45 delta): |Δ| ≈ N(−|ln(K/S)|/σ√T)."""
    values = []
    for k, d in deltas.items():
        d = abs(d)
        if 5.0 <= d <= 45.0 and k > 0 and k != spot:
            z = _N.inv_cdf(d / 100)
            x = abs(math.log(k / spot))
            if z < 0 and x > 0:
                values.append(x / -z)
    if not values:
        return None
    values.sort()
    return values[len(values) // 2]
