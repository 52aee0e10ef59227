"""The replay: one recorded day walked again under a variant with the live exit rules, filled at the recorded
mid plus a stated slippage; where the bars cannot answer the outcome says so (docs/whatif.md, "The replay")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from icbot.core.actions import SaveTrade
from icbot.core.journal import Trade
from icbot.core.metrics import EXIT_GROUPS
from icbot.core.settlement import MULTIPLIER, Bar, ExitRules, experiment_exit, touched_sides
from icbot.core.whatif.bars import INDEX, MINUTE, DayBars, contract_name
from icbot.core.whatif.blackscholes import implied_delta
from icbot.core.whatif.variants import LiveRules, Variant
from icbot.core.zones import NEW_YORK

TOUCH_CLOSE = "touch_close"  # a `touch=close` variant closed the last side at a touch


def report_group(reason: str | None) -> str:
    """A variant's exit reason as the report groups exits (icbot.core.metrics.EXIT_GROUPS): the live rules' words
    are groups already; a close at a touch is a protective exit and counts with the stops."""
    if reason is None:
        return ""
    if reason == TOUCH_CLOSE:
        return "stop"
    return reason if reason in EXIT_GROUPS else "unknown"


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
    exit_reason: str | None = None  # take_profit | stop | time_exit | TOUCH_CLOSE
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
                return self._outcome((touch_at, TOUCH_CLOSE, carried), executions, per_leg, gaps, note)
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
