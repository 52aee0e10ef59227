"""Two icbot installations on one IB account (separate journals, client ids 31 and 41) never hold two condors.

The broker is the only thing they share, so the proof is the broker's: after both runs, the account holds at most
one condor, every held lot is covered by one installation's exits, and whoever stood down said so urgently.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from icbot.core.refs import installation_of, role_of
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


def test_kill_of_the_installation_that_lost_the_race_leaves_the_winners_condor_and_exits_to_it(make_day, tmp_path):
    """Both installations send their entry at 09:32; one holds the condor, the other cancelled its own. Closing the
    winner's condor from the loser's kill would leave the winner's exits working with nothing to close: the first of
    them to fill would open a reversed condor (seen in the soak, seed 103)."""
    first = make_day()
    second = second_installation(first, tmp_path)
    for p in [start(first), start(second)]:
        p.communicate(timeout=180)
    holding = [d for d in (first, second) if getattr(d.trade(), "status", None) == "open"]
    entries = [o for o in first.sim_orders() if role_of(o.req.order_ref) == "entry" and not o.req.what_if]
    assert len(holding) == 1 and len(entries) == 2, (holding, entries)  # the race this test is about
    (winner,) = holding
    loser = second if winner is first else first
    condor = {c: p.qty for c, p in first.sim.sim.positions().items() if p.qty}
    killed = loser.run("kill", "--yes", "--reason", "test")
    assert killed.returncode == 4, killed.stdout + killed.stderr
    assert "another icbot installation's exits work for them" in killed.stdout and "left to it" in killed.stdout
    assert [o for o in first.sim_orders() if role_of(o.req.order_ref) == "close"] == []
    assert {c: p.qty for c, p in first.sim.sim.positions().items() if p.qty} == condor
    assert_one_condor_at_most(first)  # still covered by the winner's three exits
