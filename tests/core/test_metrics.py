"""The report's metrics against hand-computed tables (docs/report.md defines each figure), and properties.

Pure: `Trade` and `Fill` records are built the way the store returns them.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icbot.core.journal import ExitReason, Fill, Mode, Role, Trade, TradeStatus
from icbot.core.metrics import (
    COMMISSION_MISSING,
    EXIT_GROUPS,
    NO_COMMISSIONS,
    PNL_UNKNOWN,
    Capital,
    LogFilter,
    build_report,
    cagr,
    drawdown,
    equity_curve,
    is_traded,
    stats,
    trade_log,
    trade_row,
)
from icbot.core.zones import NEW_YORK

TARGET = 15.0
MONDAY = date(2025, 3, 3)


def at(day: date, hhmm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=NEW_YORK)


def trade(
    day: date,
    pnl: float | None,
    *,
    credit: float | None = 4.0,
    quantity: int = 1,
    reason: ExitReason | None = ExitReason.TAKE_PROFIT,
    status: TradeStatus = TradeStatus.CLOSED,
    mode: Mode = Mode.PAPER,
    **fields: object,
) -> Trade:
    base: dict[str, object] = {
        "short_put": 5940.0,
        "long_put": 5920.0,
        "short_call": 6070.0,
        "long_call": 6090.0,
        "put_delta": 14.7,
        "call_delta": 15.9,
        "vix": 16.0,
        "spx_at_entry": 6010.0,
        "mid_at_decision": -4.1,
        "natural_at_decision": -3.7,
        "ladder_attempts": 2,
        "seconds_to_fill": 10.0,
        "entry_commission": 4.2 * quantity,
        "exit_commission": 4.2 * quantity if status is TradeStatus.CLOSED else None,
        "exit_debit": None
        if credit is None or pnl is None
        else round(credit - (pnl + 8.4 * quantity) / 100 / quantity, 6),
        "entry_filled_at": at(day, "09:32:10"),
        "exited_at": at(day, "10:32:10") if status is TradeStatus.CLOSED else None,
        "minutes_in_trade": 60.0 if status is TradeStatus.CLOSED else None,
    }
    base.update(fields)
    return Trade(
        id=day.toordinal(),
        trade_date=day,
        mode=mode,
        status=status,
        experiment=mode is Mode.EXPERIMENT,
        created_at=at(day, "09:31"),
        updated_at=at(day, "12:00"),
        quantity=quantity,
        credit=credit,
        exit_reason=reason if status is TradeStatus.CLOSED else None,
        pnl=pnl,
        **base,  # type: ignore[arg-type]
    )


def rows_of(pnls: list[float | None], *, first: date = MONDAY, **kw: object) -> list:
    days = []
    day = first
    while len(days) < len(pnls):
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return [trade_row(trade(d, p, **kw), target_delta=TARGET) for d, p in zip(days, pnls, strict=True)]  # type: ignore[arg-type]


# -- the hand-computed table ----------------------------------------------------------------------------------------
# Six 1-lot trades, credit 4.00 each (premium $400), starting capital $10,000:
#   P/L      +100   -50    +80   -200   -30   +120
#   equity  10100 10050  10130   9930  9900  10020      peak 10130 → trough 9900: $230 = 2.270484 %, never recovered
SIX = [100.0, -50.0, 80.0, -200.0, -30.0, 120.0]


def test_six_trades_by_hand():
    rows = rows_of(SIX)
    r = build_report(rows, mode="paper", target_delta=TARGET, capital=Capital(10_000.0, "test"))
    s = r.stats
    assert (s.trades, s.wins, s.losses, s.scratches) == (6, 3, 3, 0)
    assert s.win_rate == 50.0
    assert s.total_pnl == 20.0
    assert s.pnl_per_trade == 3.333333
    assert s.avg_winner == 100.0
    assert s.avg_loser == -93.333333
    assert (s.largest_winner, s.largest_loser) == (120.0, -200.0)
    assert (s.gross_profit, s.gross_loss) == (300.0, -280.0)
    assert s.profit_factor == 1.071429
    assert s.longest_losing_streak == 2
    assert s.total_premium == 2400.0
    assert s.capture_rate == 0.833333
    assert s.avg_minutes_in_trade == 60.0
    assert [p.equity for p in r.equity] == [10_000.0, 10_100.0, 10_050.0, 10_130.0, 9_930.0, 9_900.0, 10_020.0]
    dd = r.drawdown
    assert dd.max_drawdown == 230.0
    assert dd.max_drawdown_pct == pytest.approx(230 / 10_130 * 100, abs=1e-6)
    assert (dd.peak_day, dd.trough_day) == (rows[2].trade_date, rows[4].trade_date)
    assert dd.recovered is False  # 10,020 never got back to 10,130
    assert dd.current == 110.0
    assert (r.starting_capital, r.ending_capital) == (10_000.0, 10_020.0)
    assert r.period_days == (rows[-1].trade_date - rows[0].trade_date).days + 1 == 8
    assert r.cagr is None and r.mar is None  # eight days do not annualise (MIN_CAGR_DAYS)
    assert "need at least 30 calendar days; the period has 8" in " ".join(r.notes)
    # the same trades over a quarter: annualised, and said so
    q = build_report(
        rows,
        mode="paper",
        target_delta=TARGET,
        start=date(2025, 3, 1),
        end=date(2025, 5, 31),
        capital=Capital(10_000.0, "test"),
    )
    expected_cagr = ((10_020 / 10_000) ** (365.25 / 92) - 1) * 100
    assert q.period_days == 92 and q.cagr == pytest.approx(expected_cagr, abs=1e-6)
    assert q.mar == pytest.approx(q.cagr / (230 / 10_130 * 100), abs=1e-6)
    assert "CAGR annualised from 92 calendar days" in q.notes
    assert r.exit_reasons["take_profit"].count == 6 and r.exit_reasons["take_profit"].pnl == 20.0


def test_no_trades():
    r = build_report([], mode="paper", target_delta=TARGET, capital=Capital(10_000.0, "test"))
    assert r.stats.trades == 0 and r.stats.win_rate is None and r.stats.total_pnl == 0.0
    assert r.stats.profit_factor is None and r.stats.capture_rate is None and r.stats.avg_minutes_in_trade is None
    assert r.start is None and r.end is None and r.period_days == 0
    assert r.equity == () and r.drawdown.max_drawdown == 0.0 and r.drawdown.recovered
    assert r.cagr is None and r.mar is None
    assert r.starting_capital == r.ending_capital == 10_000.0
    assert all(x.count == 0 and x.pnl == 0.0 for x in r.exit_reasons.values())
    assert r.by_year == () and r.by_month == () and [p.stats.trades for p in r.by_weekday] == [0] * 5


def test_one_trade_over_an_explicit_year():
    [row] = rows_of([250.0], first=date(2025, 6, 2))
    r = build_report(
        [row],
        mode="paper",
        target_delta=TARGET,
        start=date(2025, 1, 1),
        end=date(2025, 12, 31),
        capital=Capital(25_000.0, "test"),
    )
    assert r.stats.trades == 1 and r.stats.win_rate == 100.0
    assert r.stats.profit_factor is None  # nothing lost: undefined, shown as ∞
    assert r.stats.avg_loser is None and r.stats.longest_losing_streak == 0
    assert r.period_days == 365
    assert r.cagr == pytest.approx(((25_250 / 25_000) ** (365.25 / 365) - 1) * 100, abs=1e-6)
    assert r.drawdown.max_drawdown == 0.0 and r.drawdown.max_drawdown_pct == 0.0 and r.mar is None
    assert [p.day for p in r.equity] == [date(2025, 1, 1), date(2025, 6, 2)]
    assert r.notes == ()


def test_all_losers():
    r = build_report(rows_of([-10.0, -20.0, -30.0]), mode="paper", target_delta=TARGET, capital=Capital(1_000.0, "t"))
    s = r.stats
    assert (s.wins, s.losses, s.win_rate) == (0, 3, 0.0)
    assert s.profit_factor == 0.0 and s.avg_winner is None and s.largest_winner is None
    assert s.avg_loser == -20.0 and s.longest_losing_streak == 3
    assert r.drawdown.max_drawdown == 60.0 and r.drawdown.max_drawdown_pct == 6.0
    assert r.drawdown.peak_day == rows_of([0.0])[0].trade_date and not r.drawdown.recovered
    assert s.capture_rate == pytest.approx(-60 / 1200 * 100)


def test_without_a_starting_capital_percentages_are_none_not_invented():
    r = build_report(rows_of(SIX), mode="paper", target_delta=TARGET)
    assert r.capital is None and r.starting_capital is None and r.ending_capital is None
    assert r.cagr is None and r.mar is None and r.drawdown.max_drawdown_pct is None
    assert [p.equity for p in r.equity] == [0.0, 100.0, 50.0, 130.0, -70.0, -100.0, 20.0]  # the cumulative P/L
    assert r.drawdown.max_drawdown == 230.0
    assert all(p.return_pct is None and p.max_drawdown_pct is None for p in r.by_month)
    assert "no starting capital" in r.notes[0]


def test_unknown_pnl_is_marked_and_left_out_and_a_missing_commission_is_marked():
    days = [MONDAY + timedelta(days=i) for i in range(4)]
    leg = Fill(
        1,
        "x.01.01",
        days[2],
        Mode.PAPER,
        "SLD",
        1.0,
        5.0,
        at(days[2], "09:32"),
        Role.ENTRY,
        right="P",
        strike=5940.0,
        commission=None,
    )
    rows = [
        trade_row(trade(days[0], 100.0), target_delta=TARGET),
        trade_row(trade(days[1], None, reason=ExitReason.MANUAL), target_delta=TARGET),  # closed outside icbot
        trade_row(trade(days[2], 50.0), [leg], target_delta=TARGET),  # IB never reported one commission
        trade_row(trade(days[3], None, status=TradeStatus.OPEN), target_delta=TARGET),
    ]
    assert PNL_UNKNOWN in rows[1].flags and not rows[1].counted
    assert COMMISSION_MISSING in rows[2].flags and rows[2].counted
    r = build_report(rows, mode="paper", target_delta=TARGET)
    assert r.stats.trades == 2 and r.stats.total_pnl == 150.0
    assert r.not_counted == {"pnl_unknown": 1, "open": 1}
    assert r.commission_missing == 1
    assert len(r.rows) == 4 and r.exit_reasons["manual"].count == 0  # the unpriced manual close is not counted


def test_a_trade_row_whose_commission_is_not_in_the_row_is_marked():
    row = trade_row(trade(MONDAY, 90.0, entry_commission=None), target_delta=TARGET)
    assert COMMISSION_MISSING in row.flags


def test_experiment_trades_are_marked_as_without_commissions():
    row = trade_row(
        trade(MONDAY, 75.0, mode=Mode.EXPERIMENT, reason=ExitReason.EXPERIMENT_STOP, entry_commission=None),
        target_delta=TARGET,
    )
    assert row.flags == (NO_COMMISSIONS,) and row.exit_reason == "stop" and row.counted


def test_exit_reasons_group_and_sum():
    days = [MONDAY + timedelta(days=i) for i in range(5)]
    rows = [
        trade_row(trade(days[0], 100.0, reason=ExitReason.TAKE_PROFIT), target_delta=TARGET),
        trade_row(trade(days[1], -900.0, reason=ExitReason.STOP), target_delta=TARGET),
        trade_row(trade(days[2], 40.0, reason=ExitReason.TIME_EXIT), target_delta=TARGET),
        trade_row(trade(days[3], -60.0, reason=ExitReason.TIME_EXIT), target_delta=TARGET),
        trade_row(trade(days[4], 10.0, reason=None), target_delta=TARGET),  # the journal lost the reason
    ]
    r = build_report(rows, mode="paper", target_delta=TARGET)
    got = {g: (x.count, x.pnl) for g, x in r.exit_reasons.items()}
    assert got == {
        "take_profit": (1, 100.0),
        "stop": (1, -900.0),
        "time_exit": (2, -20.0),
        "manual": (0, 0.0),
        "expired": (0, 0.0),
        "unknown": (1, 10.0),
    }
    assert tuple(got) == EXIT_GROUPS


def test_fill_quality_delta_and_market_by_hand():
    # mid 4.375, natural 3.95, filled at 4.35: 0.025 below the mid = $2.50 a condor, 5.882353 % of the way to natural
    row = trade_row(
        trade(
            MONDAY,
            -223.4,
            credit=4.35,
            mid_at_decision=-4.375,
            natural_at_decision=-3.95,
            put_delta=14.69646,
            call_delta=15.878309,
            ladder_attempts=2,
            seconds_to_fill=9.98,
            vix=15.83,
            spx_at_entry=6011.8,
        ),
        target_delta=TARGET,
        spx_at_exit=6020.3,
    )
    assert (row.mid_credit, row.natural_credit) == (4.375, 3.95)
    assert row.fill_vs_mid == -0.025 and row.fill_vs_mid_usd == -2.5
    assert row.slippage_pct == 5.882353
    assert row.put_delta_vs_target == -0.30354 and row.call_delta_vs_target == 0.878309
    assert row.premium == 435.0 and row.spx_move == 8.5
    r = build_report([row], mode="paper", target_delta=TARGET)
    assert r.fill.avg_fill_vs_mid == -0.025 and r.fill.total_fill_vs_mid_usd == -2.5
    assert r.fill.avg_ladder_rungs == 2.0 and r.fill.max_seconds_to_fill == 9.98
    assert r.deltas.mean_abs_vs_target == pytest.approx((0.30354 + 0.878309) / 2)
    assert r.market.spx_move_trades == 1 and r.market.avg_abs_spx_move == 8.5 and r.market.avg_vix == 15.83


def test_the_spx_move_is_none_unless_the_journal_has_the_exit():
    assert trade_row(trade(MONDAY, 10.0), target_delta=TARGET).spx_move is None


def test_legs_from_executions_with_an_exit_filled_in_two_parts():
    day = MONDAY
    t = trade(day, 170.0, credit=4.35, quantity=2)

    def fill(n: int, role: Role, right: str, strike: float, side: str, qty: float, price: float) -> Fill:
        return Fill(
            n,
            f"e.{n}.01",
            day,
            Mode.PAPER,
            side,
            qty,
            price,
            at(day, "10:00"),
            role,
            right=right,
            strike=strike,
            commission=1.05 * qty,
        )

    fills = [
        fill(1, Role.ENTRY, "P", 5920.0, "BOT", 2, 3.41),
        fill(2, Role.ENTRY, "P", 5940.0, "SLD", 2, 5.29),
        fill(3, Role.ENTRY, "C", 6070.0, "SLD", 2, 4.79),
        fill(4, Role.ENTRY, "C", 6090.0, "BOT", 2, 2.32),
        fill(5, Role.TAKE_PROFIT, "P", 5940.0, "BOT", 1, 3.00),
        fill(6, Role.STOP, "P", 5940.0, "BOT", 1, 4.00),
        fill(7, Role.UNKNOWN, "P", 5940.0, "BOT", 1, 99.0),  # no role: neither an opening nor a closing of this trade
    ]
    row = trade_row(t, fills, target_delta=TARGET)
    legs = {leg.name: leg for leg in row.legs}
    assert [leg.name for leg in row.legs] == ["long_put", "short_put", "short_call", "long_call"]
    assert legs["short_put"].action == "SELL" and legs["long_put"].action == "BUY"
    assert legs["short_put"].open_price == 5.29 and legs["short_put"].open_quantity == 2
    assert legs["short_put"].close_price == 3.5 and legs["short_put"].close_quantity == 2  # (3.00 + 4.00) / 2
    assert legs["short_put"].open_commission == 2.1 and legs["short_put"].close_commission == 2.1
    assert legs["short_call"].close_price is None and legs["short_call"].close_commission is None


def test_years_months_and_weekdays_with_capital_carried_over():
    rows = [
        trade_row(trade(date(2024, 12, 30), 500.0), target_delta=TARGET),  # Mon
        trade_row(trade(date(2024, 12, 31), -200.0), target_delta=TARGET),  # Tue
        trade_row(trade(date(2025, 1, 2), 300.0), target_delta=TARGET),  # Thu
        trade_row(trade(date(2025, 1, 3), -700.0), target_delta=TARGET),  # Fri
        trade_row(trade(date(2025, 2, 3), 100.0), target_delta=TARGET),  # Mon
    ]
    r = build_report(rows, mode="paper", target_delta=TARGET, capital=Capital(10_000.0, "t"))
    years = {p.label: p for p in r.by_year}
    assert years["2024"].stats.total_pnl == 300.0 and years["2024"].start_equity == 10_000.0
    assert years["2024"].return_pct == 3.0 and years["2024"].max_drawdown == 200.0
    assert years["2025"].start_equity == 10_300.0  # the year starts where 2024 ended
    assert years["2025"].return_pct == pytest.approx(-300 / 10_300 * 100, abs=1e-6)
    assert years["2025"].max_drawdown == 700.0  # 10,600 → 9,900
    assert years["2025"].max_drawdown_pct == pytest.approx(700 / 10_600 * 100, abs=1e-6)
    assert [p.label for p in r.by_month] == ["2024-12", "2025-01", "2025-02"]
    assert [p.stats.total_pnl for p in r.by_month] == [300.0, -400.0, 100.0]
    days = {p.label: p.stats for p in r.by_weekday}
    assert (days["Mon"].trades, days["Mon"].total_pnl) == (2, 600.0)
    assert days["Wed"].trades == 0 and days["Wed"].win_rate is None


def test_a_period_starts_with_the_capital_the_earlier_trades_left():
    rows = rows_of([1_000.0, -500.0, 200.0])
    r = build_report(rows, mode="paper", target_delta=TARGET, start=rows[1].trade_date, capital=Capital(10_000.0, "t"))
    assert r.starting_capital == 11_000.0 and r.ending_capital == 10_700.0
    assert r.stats.trades == 2 and r.stats.total_pnl == -300.0
    assert len(r.rows) == 2 and r.drawdown.max_drawdown == 500.0


def test_modes_are_never_mixed():
    rows = [
        trade_row(trade(MONDAY, 1.0), target_delta=TARGET),
        trade_row(trade(MONDAY, 1.0, mode=Mode.LIVE), target_delta=TARGET),
    ]
    with pytest.raises(ValueError, match="one mode"):
        build_report(rows, mode="paper", target_delta=TARGET)


def test_which_days_the_log_lists():
    assert is_traded(trade(MONDAY, 1.0))
    assert is_traded(trade(MONDAY, None, status=TradeStatus.OPEN))
    assert not is_traded(trade(MONDAY, None, status=TradeStatus.NO_TRADE))
    assert not is_traded(trade(MONDAY, None, status=TradeStatus.PENDING))  # nothing was sent
    assert is_traded(trade(MONDAY, None, status=TradeStatus.PENDING, entry_order_ref="icbot:x:paper:entry"))


def test_cagr_edges():
    assert cagr(10_000, 11_000, 0) is None
    assert cagr(0, 11_000, 365) is None
    assert cagr(10_000, -5, 365) == -100.0
    assert cagr(1, 1_000_000, 1) is None  # beyond what a float holds: no number rather than infinity
    assert cagr(10_000, 11_000, 365) == pytest.approx((1.1 ** (365.25 / 365) - 1) * 100)


def test_trade_log_filters_sorts_and_keeps_the_last_n():
    rows = rows_of([100.0, -50.0, 80.0, -200.0, -30.0, 120.0])
    rows[3] = trade_row(trade(rows[3].trade_date, -200.0, reason=ExitReason.STOP, vix=31.0), target_delta=TARGET)
    assert [r.pnl for r in trade_log(rows, last=2)] == [-30.0, 120.0]
    assert [r.pnl for r in trade_log(rows, sort="pnl")] == [-200.0, -50.0, -30.0, 80.0, 100.0, 120.0]
    assert [r.pnl for r in trade_log(rows, sort="pnl", descending=True, last=3)] == [120.0, -30.0, -200.0]
    assert [r.pnl for r in trade_log(rows, where=LogFilter(exit_reasons=frozenset({"stop"})))] == [-200.0]
    assert [r.pnl for r in trade_log(rows, where=LogFilter(min_vix=30.0))] == [-200.0]
    assert [r.weekday for r in trade_log(rows, where=LogFilter(weekdays=frozenset({0})))] == ["Mon", "Mon"]
    assert trade_log(rows, last=0) == []
    with pytest.raises(ValueError, match="cannot sort"):
        trade_log(rows, sort="nonsense")


# -- properties ---------------------------------------------------------------------------------------------
cents = st.integers(min_value=-500_000, max_value=500_000).map(lambda c: c / 100)


@settings(max_examples=60, deadline=None)
@given(st.lists(cents, max_size=40), st.integers(min_value=0, max_value=40))
def test_pnl_is_additive_over_any_split(pnls, cut):
    rows = rows_of(pnls)
    a, b = rows[:cut], rows[cut:]
    assert stats(rows).total_pnl == stats(a).total_pnl + stats(b).total_pnl or math.isclose(
        stats(rows).total_pnl, stats(a).total_pnl + stats(b).total_pnl, abs_tol=1e-9
    )
    r = build_report(rows, mode="paper", target_delta=TARGET)
    assert math.isclose(sum(p.stats.total_pnl for p in r.by_year), r.stats.total_pnl, abs_tol=1e-6)
    assert math.isclose(sum(p.stats.total_pnl for p in r.by_month), r.stats.total_pnl, abs_tol=1e-6)
    assert math.isclose(sum(x.pnl for x in r.exit_reasons.values()), r.stats.total_pnl, abs_tol=1e-6)


@settings(max_examples=60, deadline=None)
@given(st.lists(cents, max_size=40), st.floats(min_value=1_000, max_value=1_000_000))
def test_drawdown_is_never_negative_and_win_rate_is_a_percentage(pnls, capital):
    rows = rows_of(pnls)
    r = build_report(rows, mode="paper", target_delta=TARGET, capital=Capital(capital, "t"))
    assert r.drawdown.max_drawdown >= 0 and all(p.drawdown >= 0 for p in r.equity)
    assert r.drawdown.max_drawdown_pct is None or r.drawdown.max_drawdown_pct >= 0
    assert r.stats.win_rate is None or 0 <= r.stats.win_rate <= 100
    assert r.stats.wins + r.stats.losses + r.stats.scratches == r.stats.trades == len(pnls)
    if rows:
        assert math.isclose(r.equity[-1].equity, r.starting_capital + r.stats.total_pnl, abs_tol=1e-6)
        lowest = min(p.equity for p in r.equity)
        assert r.drawdown.max_drawdown <= max(p.equity for p in r.equity) - lowest + 1e-6
    for p in r.by_year:
        assert p.max_drawdown >= 0 and (p.stats.win_rate is None or 0 <= p.stats.win_rate <= 100)


@settings(max_examples=40, deadline=None)
@given(st.lists(cents, min_size=1, max_size=30))
def test_the_equity_curve_and_the_drawdown_agree(pnls):
    rows = rows_of(pnls)
    points = equity_curve(rows[0].trade_date, 0.0, rows, capital=False)
    dd = drawdown(points)
    peak, worst = 0.0, 0.0
    for p in points:
        peak = max(peak, p.equity)
        worst = max(worst, round(peak - p.equity, 6))
    assert dd.max_drawdown == pytest.approx(worst, abs=1e-6)
