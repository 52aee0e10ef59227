"""The soak's own parts (tests/soak.py) that need no simulator: its plans and its judge.

The soak days themselves are too slow for the normal suite (10–30 s each); `.ci/run` runs a two-day sample after
`make test`, and `make soak DAYS=N` the real thing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

from icbot.sim.faults import parse_fault
from tests.soak import (
    Broker,
    changed_since,
    compress,
    coverage_gap,
    draw_plan,
    expected_reason,
    held_condors,
    sessions_of,
)

T0 = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
CONDOR = [(1, 1), (2, -1), (3, -1), (4, 1)]  # long put, short put, short call, long call (bought once)
REF = "icbot:2026-11-24:paper:{}/abc123"


def order(role: str, order_type: str, qty: float, *, filled: float = 0, status: str = "PreSubmitted", **kw):
    req = SimpleNamespace(
        order_ref=REF.format(role),
        order_type=order_type,
        action="BUY" if role == "entry" else "SELL",
        total_qty=qty,
        what_if=False,
    )
    return SimpleNamespace(
        req=req,
        legs=CONDOR,
        transmitted=True,
        status=status,
        filled=filled,
        remaining=qty - filled,
        done_at=kw.get("done_at"),
        perm_id=kw.get("perm_id", 1),
    )


def held(n: float) -> dict[int, float]:
    return {c: n * r for c, r in CONDOR}


def broker(orders, positions, executions=()) -> Broker:
    return Broker(T0, list(orders), list(executions), positions, {c: f"leg{c}" for c in range(1, 5)})


def test_a_plan_is_a_function_of_its_seed_and_its_faults_are_valid_simulator_specs():
    regular, half = sessions_of(2026)
    assert date(2026, 11, 27) in half and date(2026, 11, 26) not in regular + half  # Thanksgiving
    for seed in range(1, 200):
        plan = draw_plan(seed)
        assert plan == draw_plan(seed)
        assert plan.day in (half if plan.half_day else regular)
        drawn = [f for f in plan.faults if not f.startswith("positions-late=")]  # that one on a stream of its own
        assert len(drawn) <= 2 and len(plan.faults) - len(drawn) <= 1 and 1 <= plan.contracts <= 3
        for spec in plan.faults:
            parse_fault(spec, plan.day)  # raises on a spec `icbot sim --fault` would refuse
    assert any(draw_plan(s).half_day for s in range(1, 200))
    late = [s for s in range(1, 200) if any(f.startswith("positions-late=") for f in draw_plan(s).faults)]
    assert 30 < len(late) < 90  # about three days in ten


def test_a_condor_is_covered_only_by_a_working_stop_for_exactly_the_held_quantity():
    stop = order("stop", "STP", 2)
    assert coverage_gap(broker([stop], held(2))) == {}
    assert coverage_gap(broker([], {})) == {}
    assert set(coverage_gap(broker([], held(2)))) == {"leg1", "leg2", "leg3", "leg4"}  # no stop at all
    assert coverage_gap(broker([order("stop", "STP", 1)], held(2)))["leg2"] == (-2, -1)  # one lot bare
    assert coverage_gap(broker([order("stop", "STP", 3, filled=1)], held(2))) == {}  # 2 remaining of 3
    assert coverage_gap(broker([order("stop", "STP", 2, status="Cancelled")], held(2)))  # not working
    assert coverage_gap(broker([order("take_profit", "LMT", 2)], held(2)))  # a target is no stop
    assert coverage_gap(broker([stop], {}))["leg1"] == (0, 2)  # a stop working with nothing held would open one


def test_a_gap_younger_than_the_step_is_left_to_the_next_step():
    fill = SimpleNamespace(time=T0)
    assert changed_since(broker([], held(1), [fill]), T0 - timedelta(seconds=30))
    assert not changed_since(broker([], held(1), [fill]), T0 + timedelta(seconds=30))
    cancelled = order("stop", "STP", 1, status="Cancelled", done_at=T0)
    assert changed_since(broker([cancelled], held(1)), T0 - timedelta(seconds=5))


def test_the_exit_reason_the_broker_implies():
    def leg_exec(role: str, shares: float, at: datetime):
        return SimpleNamespace(
            order=SimpleNamespace(req=SimpleNamespace(order_ref=REF.format(role))), shares=shares, time=at
        )

    assert expected_reason([]) is None
    assert expected_reason([leg_exec("time_exit", 1, T0)] * 4) == "time_exit"
    assert expected_reason([leg_exec("close", 1, T0)] * 4) == "manual"
    mixed = [leg_exec("take_profit", 1, T0)] * 4 + [leg_exec("stop", 1, T0 + timedelta(minutes=1))] * 4
    assert expected_reason(mixed) == "take_profit"  # a tie goes to the earliest


def test_held_condors_and_the_code_summary():
    entry = order("entry", "LMT", 3)
    assert held_condors(broker([], held(2)), entry) == 2
    assert held_condors(broker([], {1: 1.0, 2: -1.0}), entry) == 0  # a broken condor is not a condor
    assert compress(["0", "0", "0", "4", "0"]) == ["0x3", "4", "0"]
