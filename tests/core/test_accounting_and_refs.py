"""Leg-level accounting and order references: the pure pieces the runner's safety rests on."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from icbot.core import refs
from icbot.core.accounting import LegFill, complete_credit, current_executions, execution_revision, net_flow, trade_pnl

D = date(2026, 11, 24)


def condor_fills(
    lp: float, sp: float, sc: float, lc: float, qty: float = 1, comm: float | None = 1.05
) -> list[LegFill]:
    return [
        LegFill("BOT", qty, lp, comm),
        LegFill("SLD", qty, sp, comm),
        LegFill("SLD", qty, sc, comm),
        LegFill("BOT", qty, lc, comm),
    ]


def test_credit_is_the_sum_of_leg_prices_not_a_bag_average():
    flow = net_flow(condor_fills(0.45, 2.10, 1.95, 0.40))
    assert flow.per_combo == pytest.approx(3.20)
    assert flow.combos == 1
    assert flow.commissions == pytest.approx(4.20)
    assert flow.commissions_complete


def test_credit_per_contract_for_a_two_lot():
    flow = net_flow(condor_fills(0.45, 2.10, 1.95, 0.40, qty=2, comm=2.1))
    assert flow.per_combo == pytest.approx(3.20)
    assert flow.combos == 2
    assert flow.commissions == pytest.approx(8.40)


def test_missing_commission_is_flagged_incomplete():
    fills = condor_fills(0.45, 2.10, 1.95, 0.40)
    fills[2] = LegFill("SLD", 1, 1.95, None)
    assert not net_flow(fills).commissions_complete


def test_closing_a_condor_is_a_debit():
    # Closing sells the longs and buys the shorts back: the net flow is negative (money paid).
    closing = [LegFill("SLD", 1, 0.10), LegFill("BOT", 1, 0.60), LegFill("BOT", 1, 0.55), LegFill("SLD", 1, 0.05)]
    assert net_flow(closing).per_combo == pytest.approx(-1.00)


def test_trade_pnl_dollars():
    assert trade_pnl(credit=3.20, debit=2.40, quantity=1, multiplier=100, commissions=8.4) == pytest.approx(71.6)
    assert trade_pnl(credit=3.20, debit=9.60, quantity=2, multiplier=100, commissions=16.8) == pytest.approx(-1296.8)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["BOT", "SLD"]),
            st.integers(min_value=1, max_value=5),
            st.decimals(min_value="0.05", max_value="50", places=2),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_net_flow_is_additive_across_fill_batches(rows):
    fills = [LegFill(s, q, float(p), 1.0) for s, q, p in rows]
    half = len(fills) // 2
    whole = net_flow(fills)
    a, b = net_flow(fills[:half]), net_flow(fills[half:])
    total = whole.per_combo * whole.combos
    parts = a.per_combo * a.combos + b.per_combo * b.combos
    assert total == pytest.approx(parts, abs=1e-4)
    assert whole.commissions == pytest.approx(a.commissions + b.commissions)


def test_order_refs_encode_date_mode_role_and_attempt():
    ref = refs.order_ref(D, "paper", refs.ENTRY, installation="")
    assert ref == "icbot:2026-11-24:paper:entry"
    assert ref.startswith(refs.day_prefix(D, "paper"))
    assert refs.role_of(ref) == "entry"
    repair = refs.order_ref(D, "paper", refs.STOP, attempt=2, installation="")
    assert repair == "icbot:2026-11-24:paper:stop:2"
    assert refs.role_of(repair) == "stop" and refs.attempt_of(repair) == 2
    assert refs.attempt_of(ref) == 1


def test_foreign_order_refs_have_no_role():
    assert refs.role_of("") is None
    assert refs.role_of("manual") is None
    assert refs.role_of("other:2026-11-24:paper:entry") is None


def test_modes_and_days_never_share_a_prefix():
    assert not refs.order_ref(D, "live", refs.ENTRY, installation="").startswith(refs.day_prefix(D, "paper"))
    next_day = refs.order_ref(date(2026, 11, 25), "paper", refs.ENTRY, installation="")
    assert not next_day.startswith(refs.day_prefix(D, "paper"))
    assert refs.oca_group(D, "paper", installation="") != refs.oca_group(D, "paper", attempt=2, installation="")


@pytest.mark.parametrize(
    ("exec_id", "expected"),
    [
        ("0000e0d5.6573d7a8.01.01", ("0000e0d5.6573d7a8.01", 1)),
        ("0000e0d5.6573d7a8.01.02", ("0000e0d5.6573d7a8.01", 2)),
        ("0000e0d5.6573d7a8.01.10", ("0000e0d5.6573d7a8.01", 10)),
        ("plain", ("plain", 0)),  # no period: its own execution
        ("abc.xy", ("abc.xy", 0)),  # a non-numeric tail is not a revision
        (".01", (".01", 0)),
    ],
)
def test_execution_revision_reads_ibs_correction_suffix(exec_id, expected):
    assert execution_revision(exec_id) == expected


def test_a_corrected_execution_counts_once_at_its_corrected_price():
    fills = [
        ("e.1.01.01", LegFill("BOT", 1, 0.45, 1.05)),
        ("e.1.02.01", LegFill("SLD", 1, 2.10, 1.05)),
        ("e.1.03.01", LegFill("SLD", 1, 1.95, 1.05)),
        ("e.1.04.01", LegFill("BOT", 1, 0.40, 1.05)),
        ("e.1.02.02", LegFill("SLD", 1, 2.05, 1.05)),  # IB re-prices the short put's execution
    ]
    standing = current_executions(fills, lambda f: f[0])
    assert [i for i, _ in standing] == ["e.1.01.01", "e.1.02.02", "e.1.03.01", "e.1.04.01"]
    flow = net_flow([f for _, f in standing])
    assert flow.combos == 1 and flow.per_combo == pytest.approx(3.15) and flow.commissions == pytest.approx(4.2)


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(1, 4)), max_size=30))
def test_current_executions_keep_exactly_the_latest_revision_of_each(pairs):
    ids = [f"0000.{base:04d}.{rev:02d}" for base, rev in pairs]
    standing = current_executions(ids, lambda i: i)
    bases = [execution_revision(i)[0] for i in standing]
    assert len(bases) == len(set(bases)) == len({b for b, _ in pairs})
    for i in standing:
        base, rev = execution_revision(i)
        assert rev == max(execution_revision(j)[1] for j in ids if execution_revision(j)[0] == base)


def legs_with_ids(fills: list[LegFill]) -> list[tuple[int, LegFill]]:
    return list(zip([101, 102, 103, 104], fills, strict=True))


@pytest.mark.parametrize(
    ("fills", "filled", "expected"),
    [
        (legs_with_ids(condor_fills(0.45, 2.10, 1.95, 0.40)), 1, 3.20),
        (legs_with_ids(condor_fills(0.45, 2.10, 1.95, 0.40))[1:3], 1, None),  # only the sold legs: far too much
        (legs_with_ids(condor_fills(0.45, 2.10, 1.95, 0.40))[::3], 1, None),  # only the bought legs: negative
        (legs_with_ids(condor_fills(0.45, 2.10, 1.95, 0.40)), 2, None),  # one lot in of two
        (legs_with_ids(condor_fills(0.45, 2.10, 1.95, 0.40, qty=2)), 2, 3.20),
        (legs_with_ids(condor_fills(2.10, 0.45, 0.40, 1.95)), 1, None),  # a net debit is no credit
        ([], 0, None),
    ],
)
def test_credit_from_the_legs_only_when_every_leg_is_in_for_the_whole_quantity(fills, filled, expected):
    credit = complete_credit(fills, filled=filled)
    assert credit == (None if expected is None else pytest.approx(expected))
