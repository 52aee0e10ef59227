"""Two icbot installations on one IB account (separate journals, client ids 31 and 41) never hold two condors.

The broker is the only thing they share, so the proof is the broker's: after both runs, the account holds at most
one condor, every held lot is covered by one installation's exits, and whoever stood down said so urgently.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from icbot.core import refs
from icbot.core.refs import installation_of, role_of
from icbot.store.repo import Store
from tests.e2e.conftest import Day

pytestmark = pytest.mark.e2e


def second_installation(first: Day, tmp_path: Path) -> Day:
    folder = tmp_path / "second"
    folder.mkdir()
    other = Day(folder, first.sim, first.sink, first.session, first.mode, {"gateway.client_id": 41})
    other.write_config()
    return other


def start(day: Day, extra_env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        day.argv("run-today"),
        env=day.env(None, extra_env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def assert_one_condor_at_most(day: Day) -> None:
    held = {c: p.qty for c, p in day.sim.sim.positions().items() if p.qty}
    assert len(held) in (0, 4) and all(abs(q) == 1 for q in held.values()), held
    working_exits = [
        o
        for o in day.sim_orders()
        if role_of(o.req.order_ref) in ("take_profit", "stop", "time_exit")
        and o.status in ("PreSubmitted", "Submitted")
    ]
    if held:  # covered by exactly one installation's complete set of exits
        assert len(working_exits) == 3 and len({installation_of(o.req.order_ref) for o in working_exits}) == 1
    else:
        assert not working_exits


def test_two_installations_started_together_hold_one_condor(make_day, tmp_path):
    first = make_day()
    second = second_installation(first, tmp_path)
    procs = [start(first), start(second)]
    outs = [p.communicate(timeout=180) for p in procs]
    codes = sorted(p.returncode for p in procs)
    # at most one trades (its entry may also just not fill by 09:33); the other stands down, or had to close
    assert set(codes) <= {0, 3, 4} and codes.count(0) <= 1, outs
    entries = [o for o in first.sim_orders() if role_of(o.req.order_ref) == "entry" and not o.req.what_if]
    assert len({installation_of(o.req.order_ref) for o in entries}) == len(entries)  # each names its installation
    assert_one_condor_at_most(first)
    urgent = [a for a in first.alerts_received() if a["type"] == "failure"]
    if len(entries) == 2:  # both sent: the rule was applied and said so, urgently
        assert any("two icbot installations" in a["title"] for a in urgent), first.alerts_received()


def test_a_second_installation_started_later_sends_no_second_entry(make_day, tmp_path):
    first = make_day()
    second = second_installation(first, tmp_path)
    done = first.run("run-today")
    assert done.returncode == 0, done.stdout + done.stderr
    # 35 virtual seconds later at the latest, the first one's condor is there: the second must not add one.
    later = second.run("run-today")
    assert later.returncode in (3, 0), later.stdout + later.stderr
    assert len([o for o in first.sim_orders() if role_of(o.req.order_ref) == "entry" and not o.req.what_if]) == 1
    assert_one_condor_at_most(first)


def lost_the_race(loser: Day, winner: Day) -> None:
    """`loser`'s journal as an installation leaves it whose entry went out beside `winner`'s at 09:32 and lost: its
    entry (the same legs) cancelled unfilled, the day no trade. (Which of two installations started together sends
    and loses is a race of real milliseconds; the journal it leaves is not.)"""
    entry = winner.read(lambda s: s.entry_order(winner.session, winner.mode))
    assert entry is not None and entry.placed_at is not None
    at = entry.placed_at
    with Store.open(loser.db_path) as store:
        ref = refs.order_ref(loser.session, loser.mode, refs.ENTRY, installation=store.installation_id())
        store.save_trade(loser.session, loser.mode, at, status="no_trade", quantity=0)
        store.record_intent(
            trade_date=loser.session, mode=loser.mode, role=refs.ENTRY, order_ref=ref, action="BUY",
            order_type="LMT", quantity=1, legs=entry.legs, at=at,
        )  # fmt: skip
        store.record_placed(ref, order_id=7, perm_id=None, at=at)
        store.record_order_status(ref, status="Cancelled", filled=0.0, remaining=1.0, avg_fill_price=None, at=at)


def test_kill_of_the_installation_that_lost_the_race_leaves_the_winners_condor_and_exits_to_it(make_day, tmp_path):
    """Both installations sent their entry at 09:32; the winner holds the condor with its exits, the loser cancelled
    its own. Closing the winner's condor from the loser's kill would leave the winner's exits working with nothing to
    close: the first of them to fill would open a reversed condor (seen in the soak, seed 103)."""
    winner = make_day()
    opened = winner.run("run-today")
    assert opened.returncode == 0, opened.stdout + opened.stderr
    loser = second_installation(winner, tmp_path)
    lost_the_race(loser, winner)
    condor = {c: p.qty for c, p in winner.sim.sim.positions().items() if p.qty}
    assert len(condor) == 4

    killed = loser.run("kill", "--yes", "--reason", "test")
    assert killed.returncode == 4, killed.stdout + killed.stderr
    assert "another icbot installation's exits work for them" in killed.stdout and "left to it" in killed.stdout
    assert [o for o in winner.sim_orders() if role_of(o.req.order_ref) == "close"] == []
    assert {c: p.qty for c, p in winner.sim.sim.positions().items() if p.qty} == condor
    assert_one_condor_at_most(winner)  # still covered by the winner's three exits

    closed = winner.run("kill", "--yes", "--reason", "test")  # the winner's own kill closes it with its exits
    assert closed.returncode == 0, closed.stdout + closed.stderr
    assert {c: p.qty for c, p in winner.sim.sim.positions().items() if p.qty} == {}
    assert_one_condor_at_most(winner)
