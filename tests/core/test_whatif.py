"""The what-if replay (icbot.core.whatif): variants parsed and refused, replays over bars built from a known path,
the gaps it must admit, and properties against the live experiment walk it reuses."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icbot.core.journal import Event, EventStatus, Mode, Phase, Trade, TradeStatus, selection_deltas
from icbot.core.settlement import ExitRules, experiment_exit
from icbot.core.whatif.bars import BarRow, DayBars, day_bars
from icbot.core.whatif.blackscholes import bs_price, implied_delta
from icbot.core.whatif.record_range import strikes_to_record
from icbot.core.whatif.replay import ReplayDay, replay
from icbot.core.whatif.variants import LIVE, LiveRules, TouchRule, Variant, VariantError, parse_variant
from tests.core.day import DAY, ny

RULES = LiveRules(25.0, 3.0, time(11, 30), 15.0, 16.9, 10.0, 0.05, 20.0, 0.05)
LEGS = {("P", 5880.0): "BUY", ("P", 5900.0): "SELL", ("C", 6100.0): "SELL", ("C", 6120.0): "BUY"}
FILLED = ny("09:32") + timedelta(seconds=5)


def trade(**kw) -> Trade:
    base = dict(
        id=1,
        trade_date=DAY,
        mode=Mode.PAPER,
        status=TradeStatus.CLOSED,
        experiment=False,
        created_at=FILLED,
        updated_at=FILLED,
        long_put=5880.0,
        short_put=5900.0,
        short_call=6100.0,
        long_call=6120.0,
        spx_at_entry=6000.0,
        quantity=1,
        credit=2.0,
        entry_commission=4.0,
        entry_filled_at=FILLED,
        time_exit_at=ny("11:30"),
    )
    base.update(kw)
    return Trade(**base)  # type: ignore[arg-type]


def path_bars(debits: list[float], *, spx: list[tuple[float, float]] | None = None, skip: int | None = None) -> DayBars:
    """Bars whose condor debit follows `debits` minute by minute from 09:33 (each short leg half the debit + 0.10
    per leg over its long wing)."""
    options: dict[tuple[str, float], dict[datetime, float]] = {k: {} for k in LEGS}
    index: dict[datetime, tuple[float, float, float]] = {}
    for i, debit in enumerate(debits):
        at = ny("09:33") + timedelta(minutes=i)
        if i == skip:
            continue
        options[("P", 5900.0)][at] = debit / 2 + 0.10
        options[("P", 5880.0)][at] = 0.10
        options[("C", 6100.0)][at] = debit / 2 + 0.10
        options[("C", 6120.0)][at] = 0.10
        low, high = spx[i] if spx and i < len(spx) else (5990.0, 6010.0)
        index[at] = (low, high, (low + high) / 2)
    return DayBars(options, index)


def day(bars: DayBars, **kw) -> ReplayDay:
    return ReplayDay(trade(**kw), {5900.0: 15.0, 5880.0: 11.0}, {6100.0: 15.2, 6120.0: 11.5}, bars, ny("16:00"))


# -- variants ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("live", LIVE),
        ("tp50:tp=50", Variant("tp50", profit_target_pct=50.0)),
        ("tp=50,stop=2,time=12:00", Variant("tp=50,stop=2,time=12:00", 50.0, 2.0, time(12, 0))),
        ("c:touch=close", Variant("c", touch=TouchRule("close"))),
        ("r:touch=roll:30", Variant("r", touch=TouchRule("roll", 30.0))),
        ("w:delta=20,wing=30", Variant("w", target_delta=20.0, wing_width=30.0)),
    ],
)
def test_variants_parse(text, want):
    assert parse_variant(text) == want


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("tp=100", "profit_target_pct 100 must be between 0 and 100"),
        ("stop=1", "stop_multiple 1 must be above 1"),
        ("time=17:00", "between 09:31 and 16:00"),
        ("time=noon", "is not HH:MM"),
        ("touch=roll:90", "'close' or 'roll:N'"),
        ("touch=hedge", "'close' or 'roll:N'"),
        ("x:foo=1", "not key=value with a key in"),
        ("x:", "no overrides"),
        ("bad name!:tp=50", "use 1–40 letters"),
    ],
)
def test_bad_variants_get_one_clear_message(text, words):
    with pytest.raises(VariantError, match=words.replace("(", r"\(").replace(")", r"\)")):
        parse_variant(text)


# -- replays -----------------------------------------------------------------------------------------------------------
def test_live_rules_take_profit_at_the_limit():
    # credit 2.00, 25% → take profit at a debit of 1.50; with 4 legs × 0.05 against us the 1.40 at 09:35 reads 1.60
    # (not yet), the 1.30 at 09:36 reads 1.50: filled at the limit
    out = replay(day(path_bars([1.9, 1.7, 1.4, 1.3, 1.0])), LIVE, RULES, slippage=0.05)
    assert out.exit_reason == "take_profit" and out.debit == 1.5
    assert out.exited_at == ny("09:36")
    # (2.00 − 1.50) × 100 − 8 legs × $1 commission
    assert out.pnl == pytest.approx(50.0 - 8.0)
    assert out.gaps == ()


def test_stop_fills_at_the_mid_plus_slippage():
    out = replay(day(path_bars([2.5, 4.0, 5.9, 6.5])), LIVE, RULES, slippage=0.05)
    # stop at 3 × 2.00 = 6.00: mid 5.90 + 4 × 0.05 = 6.10 ≥ 6.00 at the third minute
    assert out.exit_reason == "stop" and out.debit == pytest.approx(6.10)
    assert out.pnl == pytest.approx((2.0 - 6.10) * 100 - 8.0)


def test_time_exit_variant_and_the_live_one():
    flat = [1.8] * 300
    live = replay(day(path_bars(flat)), LIVE, RULES, slippage=0.0)
    later = replay(day(path_bars(flat)), Variant("late", time_exit=time(12, 0)), RULES, slippage=0.0)
    assert (live.exit_reason, live.exited_at) == ("time_exit", ny("11:30"))
    assert (later.exit_reason, later.exited_at) == ("time_exit", ny("12:00"))


def test_a_missing_minute_is_said_not_filled_in():
    out = replay(day(path_bars([1.9] * 300, skip=10)), LIVE, RULES, slippage=0.05)
    assert out.pnl is None and any("no bar of every leg at 09:43" in g for g in out.gaps)


def test_bars_that_end_before_any_exit_cannot_answer():
    out = replay(day(path_bars([1.9] * 30)), LIVE, RULES, slippage=0.05)
    assert out.pnl is None and any("no bar of every leg" in g or "bars end" in g for g in out.gaps)


def test_touch_close_closes_that_side_and_the_rest_runs_on():
    spx = [(5990.0, 6010.0)] * 5 + [(5899.0, 5950.0)] + [(5990.0, 6010.0)] * 300
    bars = path_bars([1.8] * 300, spx=spx)
    out = replay(day(bars), Variant("c", touch=TouchRule("close")), RULES, slippage=0.05)
    assert out.touch is not None and out.touch.startswith("put touched at 09:38 ET: closed")
    # put side closed at 09:38: short 1.00 + 0.05, long 0.10 − 0.05 → 1.00 paid; the call side at the time exit
    assert out.exit_reason == "time_exit"
    assert out.pnl is not None and out.commissions == pytest.approx(8.0)


def test_touch_close_of_both_sides_is_counted_as_a_stop_in_the_report():
    """Both shorts touched in one minute: the variant closes the whole condor there. The report's engine groups exits
    by the live words; the touch close is a stop there (it used to be a key the report did not know: KeyError)."""
    from icbot.core.metrics import build_report, trade_row
    from icbot.runner.whatif import _as_row

    spx = [(5990.0, 6010.0)] * 5 + [(5899.0, 6101.0)] + [(5990.0, 6010.0)] * 300
    out = replay(day(path_bars([1.8] * 300, spx=spx)), Variant("c", touch=TouchRule("close")), RULES, slippage=0.05)
    assert out.exit_reason == "touch_close" and out.pnl is not None
    row = _as_row(trade_row(trade(), target_delta=15.0), out)
    assert (row.exit_reason, row.exit_reason_raw) == ("stop", "touch_close")
    report = build_report([row], mode="paper", target_delta=15.0)
    assert report.exit_reasons["stop"].count == 1


def test_a_strike_not_recorded_is_named():
    out = replay(day(path_bars([1.8] * 300)), Variant("w", wing_width=30.0), RULES, slippage=0.05)
    assert out.pnl is None and out.gaps == ("strike P5870 not recorded",)


def test_no_filled_trade():
    out = replay(day(path_bars([1.8] * 10), credit=None), LIVE, RULES, slippage=0.05)
    assert out.pnl is None and out.gaps == ("no filled trade that day",)


def test_stored_rows_become_close_instants():
    bars = day_bars(DAY, [BarRow("P5900", "09:40", 1.25), BarRow("SPX", "09:40", 6001.0, high=6002.0, low=5999.0)])
    at = ny("09:41")
    assert bars.options[("P", 5900.0)] == {at: 1.25}
    assert bars.index == {at: (5999.0, 6002.0, 6001.0)}


def test_implied_delta_round_trips_a_black_scholes_price():

    years = 4 / (365 * 24)
    price = bs_price("P", 6000.0, 5985.0, years, 0.18)
    d = implied_delta("P", 6000.0, 5985.0, years, price)
    assert d is not None and 20 < d < 45
    assert implied_delta("P", 6000.0, 5970.0, years, 0.0) is None  # at intrinsic: says nothing


def test_strikes_to_record_spans_the_legs_and_the_variants():
    listed = [float(k) for k in range(5700, 6300, 5)]
    keys = strikes_to_record(trade(), {5900.0: 15.0, 5950.0: 30.0}, {6100.0: 15.2}, listed, wing_width=20.0)
    puts = sorted(k for r, k in keys if r == "P")
    calls = sorted(k for r, k in keys if r == "C")
    assert {5880.0, 5900.0} <= set(puts) and {6100.0, 6120.0} <= set(calls)
    assert puts[-1] >= 5950.0  # up to the 35-delta strike at entry
    assert puts[0] < 5880.0  # and out beyond a 10-delta strike after a touch, plus a wing
    assert 10 < len(puts) < 80 and 10 < len(calls) < 80


# -- properties --------------------------------------------------------------------------------------------------------
debit_paths = st.lists(st.floats(min_value=0.2, max_value=8.0, allow_nan=False), min_size=150, max_size=150)


@settings(max_examples=60, deadline=None)
@given(debit_paths)
def test_live_rules_without_slippage_are_the_live_experiment_walk(debits):
    """The replay of the live rules is the live bot's own walk (settlement.experiment_exit) over the same bars."""
    bars = path_bars(debits)
    out = replay(day(bars, entry_commission=0.0), LIVE, RULES, slippage=0.0)
    legs = [(action, [(t, v, v, v, v) for t, v in sorted(bars.options[key].items())]) for key, action in LEGS.items()]
    t = trade(entry_commission=0.0)
    actions = experiment_exit(t, legs, ExitRules(25.0, 3.0, 0.05), now=ny("16:00"))
    saved = [a for a in actions if type(a).__name__ == "SaveTrade"]
    if not saved:
        assert out.pnl is None
        return
    f = saved[0].fields  # type: ignore[attr-defined]
    assert out.exited_at == f["exited_at"] and out.debit == pytest.approx(f["exit_debit"])
    assert out.pnl == pytest.approx(f["pnl"])


@settings(max_examples=60, deadline=None)
@given(debit_paths, st.integers(min_value=0, max_value=149))
def test_a_hole_in_the_bars_is_never_a_number(debits, hole):
    """Either the exit came before the hole, or the replay admits it cannot answer."""
    full = replay(day(path_bars(debits)), LIVE, RULES, slippage=0.05)
    holed = replay(day(path_bars(debits, skip=hole)), LIVE, RULES, slippage=0.05)
    hole_at = ny("09:33") + timedelta(minutes=hole)
    if full.exited_at is not None and full.exited_at < hole_at:
        assert holed.pnl == full.pnl
    else:
        assert holed.pnl is None and holed.gaps


def test_replay_instants_are_aware():
    out = replay(day(path_bars([1.0] * 10)), LIVE, RULES, slippage=0.0)
    assert out.exited_at is not None and out.exited_at.tzinfo is not None
    assert out.exited_at.astimezone(UTC).utcoffset() == timedelta(0)


def _select(status: EventStatus, data: dict | None, minute: str) -> Event:
    return Event(0, None, DAY, Mode.PAPER, ny(minute), Phase.SELECT, status, "select", data)


def test_selection_deltas_are_the_last_good_selects_by_strike():
    first = _select(EventStatus.OK, {"put_deltas": {"5940": 14.7}, "call_deltas": {"6070": 15.9}}, "09:32")
    rerun = _select(EventStatus.OK, {"put_deltas": {"5945": 15.1, "5940": 14.2}, "call_deltas": {}}, "09:32")
    failed = _select(EventStatus.FAIL, {"put_deltas": {"1": 1.0}}, "09:33")
    assert selection_deltas([first, rerun, failed]) == ({5945.0: 15.1, 5940.0: 14.2}, {})
    assert selection_deltas([first]) == ({5940.0: 14.7}, {6070.0: 15.9})
    assert selection_deltas([failed, _select(EventStatus.OK, None, "09:32")]) == ({}, {})
