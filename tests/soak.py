"""Soak: randomized simulated trading days with faults and kills, judged from the broker's side.

    python -m tests.soak --days 20            # seeds 1..20 (`make soak DAYS=20`)
    python -m tests.soak --seed 17 --days 1   # one day again: the reproduction line a violation prints

Each day is drawn from its seed alone (random.Random(seed)): a real XNYS session of 2026 (now and then a half
day), 0–2 simulator faults (docs/simulator.md, "Faults"), a config variation (contracts 1–3, re-price seconds,
stop multiple, profit target), and kills: run-today dies at an `ICBOT_CRASH_AT` phase or gets SIGTERM/SIGKILL at
a random real moment; sometimes run-today is fired again, a second installation trades the same account, a check
is killed, or `icbot kill --yes` is fired mid-trade. The real console script runs in subprocesses against the
in-process simulator (tests/e2e/conftest.py's way), the entry minutes at x20 and the rest of the day at x900
with `icbot check` every five virtual minutes (tests/e2e/test_check.py's way), until after the time exit.

The judge reads the SIMULATOR's own state (its orders, executions and positions), never the journal, except to
compare the journal with it:

* one-condor — at most one entry order per installation and day, at most one entry filled on the account;
* covered — after every step (run/check/kill) that ended by itself: every held option lot is covered by a working
  icbot STP exit for exactly the held quantity (and no stop works for lots not held), unless the state changed
  since the step began (an execution or a stop ending: then the next step answers for it), or the step exited 4
  with an urgent alert on record (a known, alerted gap);
* clean-exit — no exit code 1 (or any code a command does not document), no "Traceback" in any output, no
  process hanging past its real-time bound;
* journal=broker — quantity, credit, commissions, P/L (to the cent) and exit reason of each installation's trade
  against that installation's executions at the simulator; an open trade's open quantity against the held one;
* flat — after the time exit (+10 virtual minutes): no position and no working icbot order, unless an urgent
  alert said why.

One line per day; for each violation the reproduction line and the evidence. Exit 1 if any violation.
Only loopback traffic; each day is bounded in real time (`--day-budget`; beyond it the clock jumps to the end).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import functools
import logging
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from icbot.clock import NEW_YORK, Clock, ny_datetime
from icbot.config import load_config
from icbot.core.journal import REASON_BY_ROLE, Role
from icbot.core.refs import installation_of, role_of
from icbot.core.schedule import session_times, shared_calendar
from icbot.sim.faults import untidy_faults
from icbot.sim.fixture import SimGateway, start_sim
from icbot.sim.orders import DONE
from icbot.sim.sessions import early_close
from icbot.store.repo import Store
from tests.webhook import Endpoint

ICBOT = str(Path(sys.executable).parent / "icbot")
YEAR = 2026
ENTRY_SPEED = 20.0  # 09:31 → 09:33 in six real seconds (as the e2e tests and the demo)
MONITOR_SPEED = 300.0  # after the entry; tests/e2e/test_check.py uses 900 (a check's start-up then spans 30 minutes)
CHECK_EVERY = timedelta(minutes=5)
AFTER_TIME_EXIT = timedelta(minutes=10)
TIMEOUT = {"run-today": 60.0, "check": 45.0, "kill": 45.0}  # real seconds before a process counts as hung
ALLOWED = {"run-today": {0, 3, 4}, "check": {0, 4}, "kill": {0, 4}}
CENT = 0.005 + 1e-6
RUN_CRASH_POINTS = [
    "connect:ok",
    "underlying:ok",
    "select:ok",
    "order:start",
    "order:info",  # a re-price sent: dies mid-ladder, the entry left working without its owner
    "order:ok",
    "fill:ok",
    "exits:info",
    "exits:ok",
    "done:ok",
]
CHECK_CRASH_POINTS = ["reconcile:start", "reconcile:ok", "fill:ok", "exits:start", "exits:info", "closed:ok"]


# -- the day's plan, drawn from the seed alone ---------------------------------------------------------------
@functools.cache
def sessions_of(year: int) -> tuple[list[date], list[date]]:
    """(regular sessions, half days) of `year` by the XNYS calendar icbot itself uses."""
    cal = shared_calendar()
    days = [ts.date() for ts in cal.sessions_in_range(f"{year}-01-01", f"{year}-12-31")]
    half = [d for d in days if early_close(d) is not None]
    return [d for d in days if d not in half], half


def _hms(rng: random.Random, lo: str, hi: str) -> str:
    a, b = (datetime.strptime(x, "%H:%M:%S") for x in (lo, hi))
    t = a + timedelta(seconds=rng.randint(0, int((b - a).total_seconds())))
    return t.strftime("%H:%M:%S")


def _fault(kind: str, rng: random.Random) -> str:
    early = lambda: _hms(rng, "09:31:10", "09:32:50")  # noqa: E731 — the entry minutes
    midday = lambda: _hms(rng, "09:35:00", "11:35:00")  # noqa: E731 — the trade's hours
    if kind == "refuse-until":
        return f"refuse-until={_hms(rng, '09:31:05', '09:32:40') if rng.random() < 0.8 else '09:33:30'}"
    if kind == "drop-at":
        return f"drop-at={early() if rng.random() < 0.7 else midday()}"
    if kind == "drop-after-orders":
        return f"drop-after-orders={rng.randint(1, 4)}"
    if kind == "restart":
        outage = rng.choice([30, 45, 90])
        return f"restart={outage}@{early() if rng.random() < 0.6 else midday()}"
    if kind == "reject-next":
        when = rng.choice(["", "@" + _hms(rng, "09:32:00", "09:33:00"), "@" + midday()])
        return f"reject-next=Insufficient margin{when}"
    if kind == "pacing":
        return f"pacing={rng.randint(25, 50)}"
    if kind == "read-only":
        return rng.choice(["read-only", f"read-only@{_hms(rng, '09:32:00', '09:33:30')}", f"read-only@{midday()}"])
    if kind == "fill-on-cancel":
        return rng.choice(["fill-on-cancel", f"fill-on-cancel@{midday()}"])
    if kind == "competing-session":
        return rng.choice(["competing-session", f"competing-session={rng.randint(20, 120)}@{early()}"])
    if kind == "no-greeks":
        return f"no-greeks={rng.randint(15, 90)}@{_hms(rng, '09:31:00', '09:32:10')}"
    if kind == "no-market-data":
        return f"no-market-data={rng.randint(15, 60)}"
    raise ValueError(kind)


FAULT_KINDS = [
    "refuse-until",
    "drop-at",
    "drop-after-orders",
    "restart",
    "reject-next",
    "pacing",
    "read-only",
    "fill-on-cancel",
    "competing-session",
    "no-greeks",
    "no-market-data",
]
# Pairs that would only hide each other (the first one decides the day alone).
INCOMPATIBLE = {frozenset({"read-only", "reject-next"}), frozenset({"competing-session", "no-market-data"})}


@dataclass
class Plan:
    seed: int
    day: date
    half_day: bool
    start: str  # New York time the simulator starts at
    faults: list[str]
    contracts: int
    reprice: float
    stop_multiple: float
    profit_target_pct: int
    run_kill: str  # "" | "crash:<phase:status>" | "SIGTERM" | "SIGKILL"
    run_kill_after: float  # real seconds (signals)
    rerun: bool
    second: str  # "" | "together" | "later"
    kill_at: str | None  # `icbot kill --yes` at this New York time
    check_kill: tuple[int, str, float] | None  # (which check, "crash:<point>" | "SIGKILL", real delay)
    kill_by: str = "A"  # whose `icbot kill` fires: "A", "B", or "idle" (the one not holding today's condor)
    profile: str = "tidy"  # "untidy": the simulator's own seeded mix of IB's untidy behaviours, and no kills

    def config_text(self) -> str:
        return f"c{self.contracts} r{self.reprice:g} stop×{self.stop_multiple:g} tp{self.profit_target_pct}"

    def kills_text(self) -> str:
        parts = []
        if self.run_kill.startswith("crash:"):
            parts.append(f"run-today crash@{self.run_kill[6:]}")
        elif self.run_kill:
            parts.append(f"run-today {self.run_kill}@{self.run_kill_after:.1f}s")
        if self.rerun:
            parts.append("rerun")
        if self.second:
            parts.append(f"2nd installation {self.second}")
        if self.check_kill:
            n, how, delay = self.check_kill
            parts.append(f"check#{n} " + (f"crash@{how[6:]}" if how.startswith("crash:") else f"{how}@{delay:.1f}s"))
        if self.kill_at:
            parts.append(f"kill@{self.kill_at}" + (f" by {self.kill_by}" if self.second else ""))
        return ", ".join(parts) or "-"


def draw_plan(seed: int, profile: str = "tidy") -> Plan:
    if profile == "untidy":
        return draw_untidy_plan(seed)
    rng = random.Random(seed)
    regular, half = sessions_of(YEAR)
    half_day = bool(half) and rng.random() < 0.12
    day = rng.choice(half if half_day else regular)
    faults: list[str] = []
    kinds: list[str] = []
    for _ in range(rng.choice([0, 1, 1, 2, 2])):
        kind = rng.choice(FAULT_KINDS)
        if kind in kinds or any(frozenset({kind, k}) in INCOMPATIBLE for k in kinds):
            continue
        kinds.append(kind)
        faults.append(_fault(kind, rng))
    # IB's positions trailing its executions, on a stream of its own so that every other draw stays as it was
    late = random.Random(f"positions-late:{seed}")
    if late.random() < 0.3:
        faults.append(f"positions-late={late.randint(1, 10)}")
    contracts = rng.choice([1, 1, 2, 3])
    reprice = rng.choice([2, 3, 5, 5, 8, 10])
    stop_multiple = rng.choice([3.0, 3.0, 2.0, 1.3])
    profit_target_pct = rng.choice([25, 25, 50, 90])
    r = rng.random()
    run_kill, after = "", 0.0
    if r < 0.35:
        run_kill = "crash:" + rng.choice(RUN_CRASH_POINTS)
    elif r < 0.5:
        run_kill, after = "SIGTERM", round(rng.uniform(0.8, 7.0), 1)
    elif r < 0.65:
        run_kill, after = "SIGKILL", round(rng.uniform(0.8, 7.0), 1)
    rerun = rng.random() < (0.6 if run_kill else 0.15)
    second = rng.choice(["together", "later"]) if rng.random() < 0.12 else ""
    kill_at = _hms(rng, "09:36:00", "11:25:00")[:5] if rng.random() < 0.2 else None
    check_kill = None
    if rng.random() < 0.15:
        how = "crash:" + rng.choice(CHECK_CRASH_POINTS) if rng.random() < 0.6 else "SIGKILL"
        check_kill = (rng.randint(1, 6), how, round(rng.uniform(0.3, 2.0), 1))
    start = _hms(rng, "09:30:40", "09:31:10")
    kill_by = rng.choice(["A", "B", "idle", "idle"]) if second and kill_at else "A"
    return Plan(
        seed,
        day,
        half_day,
        start,
        faults,
        contracts,
        reprice,
        stop_multiple,
        profit_target_pct,
        run_kill,
        after,
        rerun,
        second,
        kill_at,
        check_kill,
        kill_by,
    )


def draw_untidy_plan(seed: int) -> Plan:
    """`--profile untidy` (issue: IB's untidy days): run-today, then checks until after the time exit, against the
    simulator's `--profile untidy` mix for this seed (icbot/sim/faults.py `untidy_faults`); no kills, no second
    installation, the shipped exit rules; a config variation of size and re-pricing only."""
    rng = random.Random(f"untidy:{seed}")
    regular, half = sessions_of(YEAR)
    half_day = bool(half) and rng.random() < 0.1
    day = rng.choice(half if half_day else regular)
    return Plan(
        seed,
        day,
        half_day,
        _hms(rng, "09:30:40", "09:31:10"),
        [],
        contracts=rng.choice([1, 1, 2, 3]),
        reprice=rng.choice([3, 5, 5, 8]),
        stop_multiple=3.0,
        profit_target_pct=25,
        run_kill="",
        run_kill_after=0.0,
        rerun=False,
        second="",
        kill_at=None,
        check_kill=None,
        profile="untidy",
    )


def untidy_text(plan: Plan) -> str:
    """The faults the simulator draws for this plan's seed (the same call the simulator makes at its start)."""
    start = ny_datetime(plan.day.isoformat(), plan.start[:8])
    out = []
    for f in untidy_faults(plan.seed, start):
        when = f" @{f.at.astimezone(NEW_YORK):%H:%M:%S}" if f.at else ""
        detail = ":".join(b for b in (f.target, str(f.code) if f.code else "", "early" if f.early else "") if b)
        secs = f"={f.seconds:g}s" if f.seconds is not None else ""
        out.append(f"{f.kind}{'(' + detail + ')' if detail else ''}{secs}{when}")
    return ", ".join(out)


# -- running the real CLI ----------------------------------------------------------------------------------
@dataclass
class Installation:
    name: str  # "A", "B"
    folder: Path
    client_id: int

    @property
    def config(self) -> Path:
        return self.folder / "config.yaml"

    @property
    def db(self) -> Path:
        return self.folder / "icbot.db"

    def write_config(self, plan: Plan, port: int) -> None:
        cfg = {
            "mode": "paper",
            "gateway": {"host": "127.0.0.1", "port": port, "client_id": self.client_id},
            "storage": {"db": str(self.db)},
            "entry": {"reprice_seconds": plan.reprice},
            "size": {"mode": "fixed", "contracts": plan.contracts, "max_contracts": plan.contracts},
            "exits": {"stop_multiple": plan.stop_multiple, "profit_target_pct": plan.profit_target_pct},
        }
        self.folder.mkdir(parents=True, exist_ok=True)
        self.config.write_text(yaml.safe_dump(cfg), encoding="utf-8")

    def read(self, fn: Any, default: Any = None) -> Any:
        if not self.db.exists():
            return default
        try:
            store = Store.open(self.db, readonly=True)
        except Exception:  # e.g. a journal a SIGKILL left before its first migration: nothing to read yet
            return default
        try:
            return fn(store)
        finally:
            store.close()

    def installation_id(self) -> str | None:
        return self.read(lambda s: s.installation_id())


@dataclass
class Step:
    n: int
    inst: str
    command: str
    how: str  # how we killed it ("" = not at all)
    code: int | None = None
    out: str = ""
    start_v: datetime | None = None
    end_v: datetime | None = None
    real: float = 0.0
    killed: bool = False  # ended by our kill, not by itself: not judged
    hung: bool = False

    def label(self) -> str:
        how = f" [{self.how}]" if self.how else ""
        at = self.end_v.astimezone(NEW_YORK).strftime("%H:%M:%S") if self.end_v else "?"
        return f"step {self.n} {self.command}({self.inst}){how} exit {self.code} at {at} ET"


@dataclass
class Violation:
    invariant: str
    evidence: str
    key: str = ""  # the same key again (the same gap after the next check) is counted, not listed again
    again: list[str] = field(default_factory=list)


@dataclass
class Broker:
    """One consistent snapshot of the simulator (taken on its own loop, between two ticks)."""

    at: datetime
    orders: list[Any]
    executions: list[Any]
    positions: dict[int, float]
    symbols: dict[int, str]


def snapshot(gw: SimGateway) -> Broker:
    def read(s: Any) -> Broker:
        orders = [copy.deepcopy(o) for o in sorted(s.engine.orders.values(), key=lambda o: o.perm_id)]
        positions = {c: p.qty for c, p in s.engine.ledger.positions.items() if abs(p.qty) > 1e-9}
        symbols = {}
        for c in positions:
            info = s.engine.catalog.by_con_id(c)
            symbols[c] = info.local_symbol if info else str(c)
        return Broker(s.clock.now(), orders, copy.deepcopy(list(s.engine.executions)), positions, symbols)

    return gw.sim.call(read)


def icbot_orders(b: Broker) -> list[Any]:
    return [o for o in b.orders if role_of(o.req.order_ref) is not None and not o.req.what_if]


def working(o: Any) -> bool:
    return bool(o.transmitted) and o.status not in DONE


def stop_cover(b: Broker) -> dict[int, float]:
    """Per conId, the position the working icbot stops would close (SELL of the combo: minus the legs' ratios)."""
    cover: dict[int, float] = defaultdict(float)
    for o in icbot_orders(b):
        if role_of(o.req.order_ref) is Role.STOP and o.req.order_type in ("STP", "STP LMT") and working(o):
            sign = 1.0 if o.req.action == "SELL" else -1.0
            for con_id, ratio in o.legs:
                cover[con_id] += sign * o.remaining * ratio
    return dict(cover)


def coverage_gap(b: Broker, ignore: frozenset[int] = frozenset()) -> dict[str, tuple[float, float]]:
    """{leg: (held, covered by working stops)} where they differ, for the legs not in `ignore`."""
    cover = stop_cover(b)
    out = {}
    for con_id in (set(b.positions) | set(cover)) - ignore:
        held, covered = b.positions.get(con_id, 0.0), cover.get(con_id, 0.0)
        if abs(held - covered) > 1e-9:
            out[b.symbols.get(con_id, str(con_id))] = (held, covered)
    return out


def changed_since(b: Broker, since: datetime) -> bool:
    """An execution, or a stop ending, at or after `since` (virtual): the gap may be younger than the step."""
    if any(x.time >= since - timedelta(seconds=1) for x in b.executions):
        return True
    return any(
        role_of(o.req.order_ref) is Role.STOP and o.done_at is not None and o.done_at >= since - timedelta(seconds=1)
        for o in b.orders
    )


class SimErrors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@dataclass
class DayResult:
    plan: Plan
    steps: list[Step] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    outcome: str = ""
    notes: list[str] = field(default_factory=list)
    real: float = 0.0


class SoakDay:
    def __init__(
        self, plan: Plan, folder: Path, *, budget: float, verbose: bool, monitor_speed: float = MONITOR_SPEED
    ) -> None:
        self.monitor_speed = monitor_speed
        self.plan = plan
        self.folder = folder
        self.budget = budget
        self.verbose = verbose
        self.result = DayResult(plan)
        self.gw: SimGateway | None = None
        self.sink: Endpoint | None = None
        self.insts: list[Installation] = [Installation("A", folder / "a", 31)]
        if plan.second:
            self.insts.append(Installation("B", folder / "b", 41))
        self.t0 = time.monotonic()
        self.checks_run = 0

    # -- plumbing ------------------------------------------------------------------------------------------
    @property
    def clock(self) -> Clock:
        assert self.gw is not None
        return self.gw.clock

    def ny(self, hhmm: str) -> datetime:
        return ny_datetime(self.plan.day.isoformat(), hhmm)

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        assert self.gw is not None and self.sink is not None
        env = {k: v for k, v in os.environ.items() if not k.startswith("ICBOT_") or k == "ICBOT_DEBUG"}
        env["ICBOT_NOTIFY_URLS"] = self.sink.url()
        env.update(self.gw.env())
        env.update(extra or {})
        return env

    def violate(self, invariant: str, evidence: str, *, key: str = "", where: str = "") -> None:
        for v in self.result.violations:
            if key and v.invariant == invariant and v.key == key:
                v.again.append(where)
                return
        self.result.violations.append(Violation(invariant, evidence, key))

    def launch(self, inst: Installation, *args: str, how: str = "") -> tuple[Step, subprocess.Popen[str]]:
        step = Step(len(self.result.steps) + 1, inst.name, args[0], how)
        extra = {"ICBOT_CRASH_AT": how[6:]} if how.startswith("crash:") else None
        step.start_v = self.clock.now()
        step.real = time.monotonic()
        proc = subprocess.Popen(
            [ICBOT, *args, "--config", str(inst.config)],
            env=self.env(extra),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.result.steps.append(step)
        return step, proc

    def finish(self, step: Step, proc: subprocess.Popen[str], *, signal_after: float | None = None) -> Step:
        limit = TIMEOUT[step.command]
        out = ""
        try:
            if signal_after is not None:
                try:
                    out, _ = proc.communicate(timeout=signal_after)
                except subprocess.TimeoutExpired:
                    proc.send_signal(signal.SIGTERM if step.how.startswith("SIGTERM") else signal.SIGKILL)
                    out, _ = proc.communicate(timeout=limit)
            else:
                out, _ = proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            step.hung = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # its own session: this process and nothing else
            more, _ = proc.communicate()
            out += more or ""
        except BaseException:  # Ctrl-C: leave no icbot process behind
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            raise
        step.code = proc.returncode
        step.out = out or ""
        step.end_v = self.clock.now()
        step.real = time.monotonic() - step.real
        if step.how.startswith("crash:"):
            step.killed = step.code == 137
        elif step.how == "SIGKILL":
            step.killed = step.code == -signal.SIGKILL
        elif step.how == "SIGTERM":
            step.killed = step.code == -signal.SIGTERM  # before its handler was installed; else a normal ending
        if self.verbose:
            print(f"    {step.label()} ({step.real:.1f}s real)")
            for line in step.out.splitlines():
                print(f"      | {line}")
        self.judge_step(step)
        return step

    def run(self, inst: Installation, *args: str, how: str = "", signal_after: float | None = None) -> Step:
        step, proc = self.launch(inst, *args, how=how)
        return self.finish(step, proc, signal_after=signal_after)

    # -- urgent alerts ----------------------------------------------------------------------------------------
    def urgent_alerts(self) -> list[str]:
        """Every failure alert of the day: delivered to the loopback webhook, or journaled (delivered or not)."""
        assert self.sink is not None
        titles = [b.get("title", "") for b in self.sink.bodies() if b.get("type") == "failure"]
        for inst in self.insts:
            for a in inst.read(lambda s: s.alerts(limit=1000), []):
                if str(a.level) == "failure" and a.title not in titles:
                    titles.append(a.title)
        return titles

    # -- judging one step -------------------------------------------------------------------------------------
    def judge_step(self, step: Step) -> None:
        if step.hung:
            self.violate("clean-exit", f"{step.label()}: still running after {TIMEOUT[step.command]:.0f}s real")
        if "Traceback" in step.out:
            tb = step.out[step.out.index("Traceback") :].splitlines()
            self.violate("clean-exit", f"{step.label()}: Traceback in its output: {' | '.join(tb[-3:])}")
        allowed = ALLOWED[step.command]
        if self.plan.profile == "untidy" and step.command == "run-today":
            allowed = {0, 3}  # nothing kills it on an untidy day: IB's untidiness alone is no reason for a critical
        if not step.killed and not step.hung and step.code not in allowed:
            last = [line for line in step.out.splitlines() if line.strip()][-2:]
            self.violate("clean-exit", f"{step.label()}: exit {step.code} ({' | '.join(last)})")
        if step.killed or step.hung:
            return  # a process we killed answers for nothing; the next step must repair or alert
        b = snapshot(self.gw)  # type: ignore[arg-type]
        gap = coverage_gap(b, self.others_legs(step))
        if not gap:
            return
        assert step.start_v is not None and step.end_v is not None
        # On untidy days run-today answers for everything up to its own end (its watch of the exits included)
        since = step.end_v if self.plan.profile == "untidy" and step.command == "run-today" else step.start_v
        if changed_since(b, since):
            return  # the state moved during or after the step: the next step answers for the gap
        urgent = self.urgent_alerts()
        if step.code == 4 and urgent and self.plan.profile != "untidy":  # untidy days: no kill excuses a gap
            if not any("alerted gap" in n for n in self.result.notes):
                self.result.notes.append(f"alerted gap after step {step.n} ({urgent[-1]})")
            return
        held = ", ".join(f"{sym} held {h:+g} stop {c:+g}" for sym, (h, c) in sorted(gap.items()))
        self.violate(
            "covered",
            f"after {step.label()}: {held}; "
            + (f"urgent alerts so far: {urgent}" if urgent else "no urgent alert")
            + f"; working icbot orders: {self.describe_working(b)}",
            key=f"{held} {self.describe_working(b)}",
            where=f"{step.n}",
        )

    def others_legs(self, step: Step) -> frozenset[int]:
        """The legs of the other installation's condor: a check or run-today answers only for its own and for
        orphans; `kill` answers for everything: it cancels its own installation's orders and leaves the other's, whose
        exits must still cover that installation's condor."""
        if len(self.insts) == 1 or step.command == "kill":
            return frozenset()
        mine = next(i for i in self.insts if i.name == step.inst).installation_id()
        legs = set()
        for o in self.gw.sim.orders():  # type: ignore[union-attr]
            if role_of(o.req.order_ref) is Role.ENTRY and installation_of(o.req.order_ref) != mine:
                legs |= {con_id for con_id, _ in o.legs}
        return frozenset(legs)

    def describe_working(self, b: Broker) -> str:
        ws = [o for o in icbot_orders(b) if working(o)]
        return (
            ", ".join(
                f"{role_of(o.req.order_ref)} {o.req.order_type} {o.req.action} {o.remaining:g}/{o.req.total_qty:g} "
                f"{o.status} (client {o.client_id})"
                for o in ws
            )
            or "none"
        )

    # -- the day ------------------------------------------------------------------------------------------
    def run_day(self) -> DayResult:
        plan = self.plan
        self.sink = Endpoint()
        errors = SimErrors()
        sim_logger = logging.getLogger("icbot.sim")
        sim_logger.addHandler(errors)
        try:
            self.gw = start_sim(
                start=f"{plan.day.isoformat()}T{plan.start}",
                speed=ENTRY_SPEED,
                faults=list(plan.faults),
                seed=plan.seed,
                profile=plan.profile,
            )
            for inst in self.insts:
                inst.write_config(plan, self.gw.port)
            self.morning()
            self.monitor()
            self.judge_day()
        finally:
            if self.gw is not None:
                self.gw.stop()
            self.sink.close()
            sim_logger.removeHandler(errors)
        for message in errors.messages[:3]:
            self.violate("simulator", f"the simulator logged an error: {message}")
        self.result.real = time.monotonic() - self.t0
        return self.result

    def morning(self) -> None:
        plan = self.plan
        a = self.insts[0]
        signal_after = plan.run_kill_after if plan.run_kill in ("SIGTERM", "SIGKILL") else None
        if plan.second == "together":
            b = self.insts[1]
            step_a, proc_a = self.launch(a, "run-today", how=plan.run_kill)
            step_b, proc_b = self.launch(b, "run-today")
            self.finish(step_a, proc_a, signal_after=signal_after)
            self.finish(step_b, proc_b)
        else:
            self.run(a, "run-today", how=plan.run_kill, signal_after=signal_after)
        if plan.rerun:
            self.run(a, "run-today")
        if plan.second == "later":
            self.run(self.insts[1], "run-today")

    def killer(self) -> Installation:
        if self.plan.kill_by == "idle":  # the operator fires `kill` on the other machine
            for inst in self.insts:
                trade = inst.read(lambda s: s.trade(self.plan.day, "paper"))
                if trade is None or str(trade.status) != "open":
                    return inst
        return next((i for i in self.insts if i.name == self.plan.kill_by), self.insts[0])

    def quiet(self, b: Broker) -> bool:
        """Nothing left to happen: flat, no working icbot order, every journal's day final (or never begun)."""
        if b.positions or any(working(o) for o in icbot_orders(b)):
            return False
        for inst in self.insts:
            trade = inst.read(lambda s: s.trade(self.plan.day, "paper"))
            if trade is not None and not trade.status.is_final and not self.never_sent(inst, b):
                return False
        return True

    def never_sent(self, inst: Installation, b: Broker) -> bool:
        """A pending day whose run-today died before sending: nothing at the broker, nothing for check to do."""
        intent = inst.read(lambda s: s.entry_order(self.plan.day, "paper"))
        if intent is not None and intent.transmitted:
            return False
        mine = inst.installation_id()
        return not any(
            role_of(o.req.order_ref) is Role.ENTRY and installation_of(o.req.order_ref) == mine for o in b.orders
        )

    def monitor(self) -> None:
        assert self.gw is not None
        self.gw.set_speed(self.monitor_speed)
        cfg = load_config(self.insts[0].config, environ={})
        times = session_times(shared_calendar(), self.plan.day, cfg.entry, cfg.exits)
        assert times is not None
        self.time_exit = times.time_exit_at
        self.deadline = times.deadline_at
        end_at = self.time_exit + AFTER_TIME_EXIT
        kill_at = self.ny(self.plan.kill_at) if self.plan.kill_at else None
        killed = False
        while self.clock.now() < end_at:
            if time.monotonic() - self.t0 > self.budget:
                self.result.notes.append(
                    f"day budget {self.budget:.0f}s spent at {self.clock.now_ny():%H:%M} ET: clock jumped to "
                    f"{end_at.astimezone(NEW_YORK):%H:%M}"
                )
                self.gw.set_clock(Clock.virtual(end_at, self.monitor_speed))
                break
            began = self.clock.now()
            if kill_at is not None and not killed and began >= kill_at:
                killed = True
                self.run(self.killer(), "kill", "--yes", "--reason", "soak")
            for inst in self.insts:
                self.checks_run += 1
                ck = self.plan.check_kill
                if ck and inst.name == "A" and self.checks_run == ck[0]:
                    self.run(inst, "check", how=ck[1], signal_after=ck[2] if ck[1] == "SIGKILL" else None)
                else:
                    self.run(inst, "check")
            if self.clock.now() > self.deadline and self.quiet(snapshot(self.gw)):
                if kill_at is not None and not killed:  # nothing left to stop: fire it now, it must be harmless
                    killed = True
                    self.run(self.killer(), "kill", "--yes", "--reason", "soak")
                    continue
                break
            wake = began + CHECK_EVERY
            self.clock.sleep(max(0.0, (wake - self.clock.now()).total_seconds()))
        # One last check each, unless there is nothing left to do (as launchd's next firing would).
        if not self.quiet(snapshot(self.gw)):
            for inst in self.insts:
                self.run(inst, "check")

    # -- judging the day ----------------------------------------------------------------------------------
    def judge_day(self) -> None:
        assert self.gw is not None
        b = snapshot(self.gw)
        day = self.plan.day
        urgent = self.urgent_alerts()
        ids = {inst.name: inst.installation_id() for inst in self.insts}
        entries = [o for o in icbot_orders(b) if role_of(o.req.order_ref) is Role.ENTRY]
        # one-condor
        filled = [o for o in entries if o.filled > 0]
        if len(filled) > 1:
            self.violate(
                "one-condor",
                "entries filled on the account: "
                + ", ".join(f"{o.req.order_ref} {o.filled:g}/{o.req.total_qty:g}" for o in filled),
            )
        by_inst: dict[str, list[Any]] = defaultdict(list)
        for o in entries:
            by_inst[installation_of(o.req.order_ref)].append(o)
        for inst_id, os_ in by_inst.items():
            if len(os_) > 1:
                self.violate("one-condor", f"installation {inst_id} sent {len(os_)} entry orders: {os_refs(os_)}")
        # flat
        now_ny = b.at.astimezone(NEW_YORK)
        still = [o for o in icbot_orders(b) if working(o)]
        if b.positions or still:
            held = ", ".join(f"{b.symbols[c]} {q:+g}" for c, q in sorted(b.positions.items())) or "none"
            what = f"at {now_ny:%H:%M} ET: positions {held}; working icbot orders: {self.describe_working(b)}"
            if urgent:
                self.result.notes.append(f"not flat, alerted ({urgent[-1]})")
            else:
                self.violate("flat", f"{what}; no urgent alert said why")
        # journal = broker
        outcomes = []
        for inst in self.insts:
            inst_id = ids[inst.name]
            trade = inst.read(lambda s: s.trade(day, "paper"))
            mine = [o for o in icbot_orders(b) if inst_id and installation_of(o.req.order_ref) == inst_id]
            outcomes.append(self.judge_journal(inst, inst_id, trade, mine, b, urgent))
        self.result.outcome = " | ".join(outcomes)

    def judge_journal(
        self, inst: Installation, inst_id: str | None, trade: Any, mine: list[Any], b: Broker, urgent: list[str]
    ) -> str:
        tag = f"{inst.name}:" if len(self.insts) > 1 else ""
        entry = next((o for o in mine if role_of(o.req.order_ref) is Role.ENTRY), None)
        filled = entry.filled if entry is not None else 0.0
        if trade is None:
            if entry is not None:
                self.violate(
                    "journal=broker", f"{tag}no trade in the journal, but the broker has {entry.req.order_ref}"
                )
            return f"{tag}no journal trade"
        status = str(trade.status)
        if filled <= 0:
            if status in ("open", "closed"):
                self.violate("journal=broker", f"{tag}journal trade {status}, but no entry of it filled at the broker")
            elif status == "pending":
                if self.never_sent(inst, b):  # nothing at risk; check leaves such a day alone (open_trades)
                    self.result.notes.append(f"{tag}journal left pending: no entry was ever sent")
                else:
                    self.violate("journal=broker", f"{tag}trade pending at the end; broker: {os_refs(mine)}")
            reason = (trade.no_trade_reason or "").split(";")[0][:72]
            return f"{tag}{status}" + (f" ({reason})" if reason else "")
        perm_ids = {o.perm_id for o in mine}
        legs = [x for x in b.executions if x.contract.sec_type == "OPT" and x.order.perm_id in perm_ids]
        entry_legs = [x for x in legs if x.order.perm_id == entry.perm_id]
        exit_legs = [x for x in legs if x.order.perm_id != entry.perm_id]

        def flow(xs: list[Any]) -> float:
            return sum(x.price * x.shares * (1 if x.side == "SLD" else -1) for x in xs)

        credit = flow(entry_legs) / filled
        entry_comm = sum(x.commission or 0.0 for x in entry_legs)
        problems = []
        if trade.quantity != filled:
            problems.append(f"quantity {trade.quantity} vs filled {filled:g}")
        if trade.credit is None or abs(trade.credit - credit) > CENT:
            problems.append(f"credit {trade.credit} vs legs {credit:.4f}")
        if status not in ("open", "closed"):
            problems.append(f"status {status} although the entry filled {filled:g}")
        if status == "closed":
            pnl = flow(legs) * 100 - sum(x.commission or 0.0 for x in legs)
            if trade.pnl is None or abs(trade.pnl - pnl) > CENT * 2:
                problems.append(f"P/L {trade.pnl} vs broker {pnl:.2f}")
            if trade.entry_commission is None or abs(trade.entry_commission - entry_comm) > CENT:
                problems.append(f"entry commission {trade.entry_commission} vs {entry_comm:.2f}")
            reason = expected_reason(exit_legs)
            if reason is not None and str(trade.exit_reason) != reason:
                problems.append(f"exit reason {trade.exit_reason} vs broker {reason}")
            closed_at_broker = sum(x.shares for x in exit_legs) / 4
            if abs(closed_at_broker - filled) > 1e-9:
                problems.append(f"closed, but the broker closed {closed_at_broker:g} of {filled:g}")
            shown = f"{tag}closed {trade.exit_reason} x{filled:g} P/L {trade.pnl:+.2f}" if trade.pnl is not None else ""
        else:
            held = held_condors(b, entry)
            open_qty = filled - sum(x.shares for x in exit_legs) / 4
            if abs(held - open_qty) > 1e-9:
                problems.append(f"open {open_qty:g} by the journal's fills, broker holds {held:g}")
            shown = f"{tag}{status} x{filled:g} credit {credit:.2f}"
        if problems:
            self.violate("journal=broker", f"{tag}" + "; ".join(problems))
        return shown or f"{tag}{status}"


def os_refs(orders: list[Any]) -> str:
    return ", ".join(f"{o.req.order_ref} {o.status} {o.filled:g}/{o.req.total_qty:g}" for o in orders) or "none"


def held_condors(b: Broker, entry: Any) -> float:
    """How many of the entry's condors the account holds (the smallest per-leg quantity)."""
    qty = [b.positions.get(con_id, 0.0) / ratio for con_id, ratio in entry.legs]
    return min(qty) if qty else 0.0


def expected_reason(exit_legs: list[Any]) -> str | None:
    """The exit reason the broker's executions imply: the role that closed the most (earliest on a tie)."""
    closed: dict[str, float] = defaultdict(float)
    first: dict[str, datetime] = {}
    for x in exit_legs:
        role = role_of(x.order.req.order_ref)
        reason = str(REASON_BY_ROLE.get(role, "manual")) if role is not None else "manual"
        closed[reason] += x.shares / 4
        first[reason] = min(first.get(reason, x.time), x.time)
    if not closed:
        return None
    return min(closed, key=lambda r: (-closed[r], first[r]))


# -- the command ------------------------------------------------------------------------------------------
def describe(result: DayResult) -> str:
    p = result.plan
    codes: dict[str, list[str]] = defaultdict(list)
    for s in result.steps:
        key = {"run-today": "rt", "check": "ck", "kill": "kill"}[s.command] + (s.inst if len(p.second) else "")
        codes[key].append(f"{s.code}{'*' if s.killed else ''}")
    code_text = " ".join(f"{k}:{','.join(compress(v))}" for k, v in codes.items())
    verdict = "OK" if not result.violations else f"VIOLATION x{len(result.violations)}"
    day = f"{p.day}{'½' if p.half_day else ''}"
    return (
        f"seed {p.seed:>4}  {day:<11} {p.config_text():<22} "
        f"faults [{(untidy_text(p) if p.profile == 'untidy' else ', '.join(p.faults)) or '-'}]  "
        f"kills [{p.kills_text()}]  → {result.outcome or '-'}  codes {code_text}  {result.real:.1f}s  {verdict}"
    )


def compress(codes: list[str]) -> list[str]:
    """0,0,0,4 → 0x3,4."""
    out: list[str] = []
    for c in codes:
        if out and out[-1].split("x")[0] == c:
            head, _, n = out[-1].partition("x")
            out[-1] = f"{head}x{int(n or 1) + 1}"
        else:
            out.append(c)
    return out


def soak(
    seeds: list[int],
    *,
    budget: float,
    keep: Path | None,
    verbose: bool,
    monitor_speed: float = MONITOR_SPEED,
    profile: str = "tidy",
) -> list[DayResult]:
    results = []
    for seed in seeds:
        plan = draw_plan(seed, profile)
        if verbose:
            print(f"seed {seed}: {plan}")
        with tempfile.TemporaryDirectory(prefix=f"icbot-soak-{seed}-") as tmp:
            folder = Path(tmp)
            day = SoakDay(plan, folder, budget=budget, verbose=verbose, monitor_speed=monitor_speed)
            try:
                result = day.run_day()
            except Exception:
                result = day.result
                result.violations.append(Violation("soak-error", traceback.format_exc().strip().replace("\n", " | ")))
                result.real = time.monotonic() - day.t0
            if keep is not None and (result.violations or verbose):
                target = keep / f"seed-{seed}"
                import shutil

                shutil.copytree(folder, target, dirs_exist_ok=True)
                result.notes.append(f"journals kept in {target}")
        results.append(result)
        print(describe(result), flush=True)
        for note in result.notes:
            print(f"          note: {note}", flush=True)
        for v in result.violations:
            print(f"  VIOLATION {v.invariant}: {v.evidence}", flush=True)
            if v.again:
                steps = v.again[0] if len(v.again) == 1 else f"{v.again[0]}–{v.again[-1]}"
                print(f"    the same after {len(v.again)} later step(s) (step {steps})", flush=True)
            again = " --profile untidy" if profile == "untidy" else ""
            print(f"    reproduce: python -m tests.soak{again} --seed {seed} --days 1 --verbose", flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=20, help="how many days (seeds seed, seed+1, …)")
    parser.add_argument("--seed", type=int, default=1, help="the first day's seed")
    parser.add_argument("--seeds", type=str, default="", help="explicit comma-separated seeds (overrides the above)")
    parser.add_argument("--day-budget", type=float, default=120.0, help="real seconds per day before the clock jumps")
    parser.add_argument(
        "--monitor-speed", type=float, default=MONITOR_SPEED, help="virtual clock speed after the entry minutes"
    )
    parser.add_argument(
        "--profile",
        choices=("tidy", "untidy"),
        default="tidy",
        help="tidy: the soak's faults and kills; untidy: the simulator's untidy IB behaviours, no kills",
    )
    parser.add_argument("--keep", type=Path, default=None, help="copy the journals of violating days here")
    parser.add_argument("--verbose", "-v", action="store_true", help="every step with its output")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()] or list(range(args.seed, args.seed + args.days))
    t0 = time.monotonic()
    results = soak(
        seeds,
        budget=args.day_budget,
        keep=args.keep,
        verbose=args.verbose,
        monitor_speed=args.monitor_speed,
        profile=args.profile,
    )
    bad = [r for r in results if r.violations]
    total = time.monotonic() - t0
    print(
        f"soak: {len(results)} day(s) in {total:.0f}s ({total / max(1, len(results)):.1f}s/day), "
        f"{len(bad)} with violations" + (f": seeds {', '.join(str(r.plan.seed) for r in bad)}" if bad else "")
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
