"""`make bench`: the speed and API-economy targets (docs/simulator.md, "Benchmarks"), measured against the
bundled simulator.

Not a pytest module (the name does not start with `test_`): these are measurements with thresholds, slow by
nature (a whole virtual session takes 39 real seconds at speed 600) and sensitive to machine load, so they stay
out of `make test`. Each benchmark drives the real parts — ib_async over a loopback socket, the `icbot`
console script in a subprocess, a real SQLite journal — and reports what it saw. A target that is missed
makes the run exit 1; a command that does not exist yet is shown as "not built yet", never as passing.

    python -m tests.bench                 # everything (~15 min on 2 cores: the entry's 20 runs, the suite)
    python -m tests.bench entry demo      # a subset, by name
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from ib_async import IB

from icbot.broker.market import MAX_LINES
from icbot.clock import NEW_YORK, ny_datetime, real_monotonic
from icbot.sim.fixture import SimGateway, start_sim
from icbot.sim.protocol import SERVER_VERSION
from icbot.sim.requests import parse_place_order
from icbot.store.repo import Store
from tests.webhook import Endpoint

ICBOT = str(Path(sys.executable).parent / "icbot")
SESSION = date(2026, 11, 24)
MODE = "paper"


@dataclass
class Result:
    target: str
    goal: str
    measured: str
    ok: bool | None  # None: nothing to measure yet (the command is not built)
    note: str = ""


@dataclass
class Workspace:
    """State shared between benchmarks of one run: a temp dir (`status` runs its own open trade)."""

    tmp: Path
    entry_runs: int = 20  # run-todays measured by `entry`


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any ICBOT_* setting (a developer's own clock, config or alert URLs)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ICBOT_")}
    env.update(extra)
    return env


def write_config(path: Path, port: int, db: Path, **extra: Any) -> Path:
    cfg = {
        "mode": MODE,
        "gateway": {"host": "127.0.0.1", "port": port, "client_id": 31},
        "storage": {"db": str(db)},
        **extra,
    }
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


def command_exists(name: str) -> bool:
    done = subprocess.run([ICBOT, name, "--help"], env=clean_env(), capture_output=True, text=True, check=False)
    return done.returncode == 0


def ms(delta: timedelta) -> float:
    return delta.total_seconds() * 1000.0


# -- 1. connect ------------------------------------------------------------------------------------------------
def connect_samples(gw: SimGateway, first_client_id: int, n: int = 5) -> list[float]:
    async def once(client_id: int) -> float:
        ib = IB()
        t0 = real_monotonic()
        await ib.connectAsync(gw.host, gw.port, clientId=client_id, timeout=5)
        took = real_monotonic() - t0
        synced = ib.isConnected() and bool(ib.managedAccounts()) and bool(ib.accountValues())
        ib.disconnect()
        if not synced:  # a fast "connect" that skipped the sync would measure nothing
            raise RuntimeError("connectAsync returned without accounts and account values")
        return took

    return [asyncio.run(once(first_client_id + i)) for i in range(n)]


def bench_connect(ws: Workspace) -> list[Result]:
    """ib_async's whole connect handshake (accounts, positions, open orders, executions) against the simulator."""
    results = []
    for latency_ms in (0, 20):
        gw = start_sim(speed=1, latency_ms=latency_ms)
        try:
            samples = connect_samples(gw, 40)
        finally:
            gw.stop()
        median = statistics.median(samples)
        results.append(
            Result(
                f"IB.connectAsync, {latency_ms} ms round trip (median of 5)",
                "< 0.5 s",
                f"{median * 1000:.0f} ms",
                median < 0.5,
                f"real seconds; min {min(samples) * 1000:.0f} ms, max {max(samples) * 1000:.0f} ms",
            )
        )
    return results


# -- 2 and 3. entry latency and API economy during a real run-today ----------------------------------------------
def first_entry(gw: SimGateway, ref: str) -> tuple[datetime | None, int]:
    """Virtual receive time of the first transmitted (not what-if) entry placeOrder, and how many were sent.

    `ref` is the entry's orderRef without the installation id (`icbot:<date>:<mode>:entry`): a journal names its
    installation at its first run, so the bench matches `ref` and `ref/<installation>`."""
    first: datetime | None = None
    count = 0
    for rec in gw.sim.requests("placeOrder"):
        req = parse_place_order(rec.fields, SERVER_VERSION)
        if req.order_ref.partition("/")[0] != ref or req.what_if:
            continue
        count += 1
        if first is None:
            first = rec.at
    return first, count


def journaled_at(db: Path, phase: str, status: str = "ok") -> datetime | None:
    store = Store.open(db, readonly=True)
    try:
        for event in store.events(SESSION, MODE):
            if event.phase == phase and event.status == status:
                return event.at.astimezone(NEW_YORK)
    finally:
        store.close()
    return None


ENTRY_TARGET = "entry order at the gateway after 09:32:00.000 ET"
ENTRY_RUNS = 20  # `--entry-runs N` changes it; the goals are for a distribution, never for one sample
ENTRY_P50_MS, ENTRY_MAX_MS = 20.0, 50.0  # the 10 ms one-way latency is the floor
LINES_GOAL = 30  # issue 14's goal, not the code's own cap: the cap (MAX_LINES) must stay within it
# After the exits, run-today watches them for `exits.confirm_seconds` (30 s): nothing the entry benchmark measures,
# so its runs skip the watch (20 runs would take 10 minutes longer).
ENTRY_CONFIG: dict[str, Any] = {"exits": {"confirm_seconds": 0}}


@dataclass
class EntryRun:
    seed: int
    code: int
    wall: float
    latency_ms: float | None  # None: no entry reached the gateway
    placed: int  # entry placeOrder messages, re-prices included
    select_ms: float | None
    lines: int
    pacing: int
    stderr: str


def entry_run(ws: Workspace, seed: int) -> EntryRun:
    """One real `icbot run-today` at speed 1 with a 20 ms simulated round trip, started 15 s before 09:32."""
    entry_at = ny_datetime(SESSION.isoformat(), "09:32")
    gw = start_sim(start=f"{SESSION}T09:31:45", speed=1, latency_ms=20, seed=seed)
    sink = Endpoint()
    try:
        db = ws.tmp / f"entry-{seed}.db"
        cfg = write_config(ws.tmp / f"entry-{seed}.yaml", gw.port, db, **ENTRY_CONFIG)
        env = clean_env(ICBOT_NOTIFY_URLS=sink.url(), **gw.env())
        t0 = real_monotonic()
        done = subprocess.run(
            [ICBOT, "run-today", "--config", str(cfg)], env=env, capture_output=True, text=True, timeout=150
        )
        wall = real_monotonic() - t0
        placed_at, placed = first_entry(gw, f"icbot:{SESSION}:{MODE}:entry")
        stats = gw.sim.stats()
        selected = journaled_at(db, "select") if db.exists() else None
    finally:
        sink.close()
        gw.stop()
    return EntryRun(
        seed,
        done.returncode,
        wall,
        None if placed_at is None else ms(placed_at - entry_at),
        placed,
        None if selected is None else ms(selected - entry_at),
        stats.max_md_lines if stats.connections > 0 else -1,
        stats.pacing_violations,
        done.stderr.strip()[-300:],
    )


def percentile(values: list[float], q: float) -> float:
    """The q-quantile by the nearest rank (q=0.5: the median for an odd count, the lower middle for an even)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def bench_entry(ws: Workspace) -> list[Result]:
    """`ENTRY_RUNS` real run-todays, one simulator seed each (1, 2, …): the entry's latency as a distribution, the
    market-data line peak and the pacing count over all of them."""
    runs = []
    for seed in range(1, ws.entry_runs + 1):
        run = entry_run(ws, seed)
        runs.append(run)
        shown = "no entry" if run.latency_ms is None else f"{run.latency_ms:.1f} ms"
        print(f"  seed {seed:2}: entry {shown}, {run.lines} lines, exit {run.code}, {run.wall:.1f} s", flush=True)
    latencies = [r.latency_ms for r in runs if r.latency_ms is not None]
    missing = [r for r in runs if r.latency_ms is None]
    failed = [r for r in runs if r.code not in (0,)]
    notes = [f"{len(runs)} runs (seeds 1–{len(runs)}), real {sum(r.wall for r in runs):.0f} s"]
    if missing:
        notes.append(f"no entry for seed(s) {', '.join(str(r.seed) for r in missing)}")
    for r in failed[:3]:
        notes.append(f"seed {r.seed} exit {r.code}: {r.stderr}")
    results = []
    if latencies:
        p50, top = statistics.median(latencies), max(latencies)
        p90 = percentile(latencies, 0.9)
        shown = ", ".join(f"{x:.1f}" for x in latencies)
        results.append(
            Result(
                f"{ENTRY_TARGET} (p50 of {len(latencies)})",
                f"≤ {ENTRY_P50_MS:g} ms",
                f"{p50:.1f} ms",
                p50 <= ENTRY_P50_MS and not missing,
                "; ".join([*notes, f"ms by seed: {shown}"]),
            )
        )
        results.append(
            Result(
                f"  max of {len(latencies)} (min {min(latencies):.1f}, p90 {p90:.1f})",
                f"≤ {ENTRY_MAX_MS:g} ms",
                f"{top:.1f} ms",
                top <= ENTRY_MAX_MS and not missing,
            )
        )
    else:
        results.append(Result(ENTRY_TARGET, f"p50 ≤ {ENTRY_P50_MS:g} ms", "no entry", False, "; ".join(notes)))
    selects = [r.select_ms for r in runs if r.select_ms is not None]
    results.append(
        Result(
            "  `select` journaled after 09:32:00.000 ET (median)",
            "(info)",
            f"{statistics.median(selects):.1f} ms" if selects else "not journaled",
            None if selects else False,
            "the event's time as the bot's virtual clock read it",
        )
    )
    lines = max(r.lines for r in runs)
    results.append(
        Result(
            "market-data lines at any time (run-today, max over the runs)",
            f"≤ {LINES_GOAL}",
            str(lines),
            0 <= lines <= LINES_GOAL and MAX_LINES <= LINES_GOAL and all(r.lines > 0 for r in runs),
            "by seed: " + ", ".join(str(r.lines) for r in runs),
        )
    )
    pacing = sum(r.pacing for r in runs)
    results.append(Result("pacing violations (run-today, all runs)", "0", str(pacing), pacing == 0))
    return results


# -- 4. a whole virtual session at speed 600 ---------------------------------------------------------------------
def bench_session(ws: Workspace) -> list[Result]:
    """The simulator's own slow test (50 option lines, SPX, VIX, an IC with OCA exits) measured, not asserted.

    Passing means the client ran the whole session in under a minute AND the order engine had evaluated every
    virtual second up to 16:00 by then. How far the engine trails the clock mid-run is shown for information:
    it is bounded by the ticker's cadence (one tick = 12 virtual s at speed 600) plus the machine's load.
    """
    from tests.sim.test_session import trade_a_day

    close = ny_datetime(SESSION.isoformat(), "16:00")
    gw = start_sim(start=f"{SESSION}T09:30:00", speed=600)
    try:
        t0 = real_monotonic()
        out = trade_a_day(gw, "16:00:05")
        took = real_monotonic() - t0
        evaluated_s = gw.sim.call(lambda s: s.engine._sec)
        lines = gw.sim.stats().max_md_lines
    finally:
        gw.stop()
    lag = float(out.get("max_lag", 0.0))  # type: ignore[arg-type]
    exits = sorted(str(s) for s in out.get("exits", {}).values())  # type: ignore[attr-defined]
    evaluated = None if evaluated_s is None else datetime.fromtimestamp(evaluated_s, UTC).astimezone(NEW_YORK)
    caught_up = evaluated is not None and evaluated >= close
    note = (
        f"engine had evaluated up to {'nothing' if evaluated is None else f'{evaluated:%H:%M:%S} ET'}; "
        f"{out.get('greeks')} of 50 "
        f"option lines with greeks; {lines} lines at most; exits {exits}"
    )
    return [
        Result("virtual 09:30–16:00 at speed 600 (real)", "< 60 s", f"{took:.1f} s", took < 60 and caught_up, note),
        Result(
            "  engine behind the clock, max (virtual)",
            "(info)",
            f"{lag:.0f} s = {lag / 0.6:.0f} ms real",
            None,
            "for information; tests/sim/test_session.py checks the same day's outcome, untimed",
        ),
    ]


# -- 5. determinism ----------------------------------------------------------------------------------------------
def market_sample(gw: SimGateway) -> list[tuple[Any, ...]]:
    instants = [ny_datetime(SESSION.isoformat(), hhmm) for hhmm in ("09:31", "09:32:17", "11:30", "15:59:59")]

    def read(s: Any) -> list[tuple[Any, ...]]:
        out: list[tuple[Any, ...]] = []
        for t in instants:
            out.append(("SPX", s.market.spx(t), "VIX", s.market.vix(t)))
            for right, strike in (("P", 5920), ("P", 5940), ("C", 6065), ("C", 6085)):
                spec = s.market.find_option(right, strike)
                out.append((right, strike, s.market.quote(spec.con_id, t), s.market.greeks(spec.con_id, t)))
        return out

    return gw.sim.call(read)


def bench_determinism(ws: Workspace) -> list[Result]:
    """Two running simulators with one seed quote alike; the order engine fills one order flow alike."""
    from tests.sim.test_engine import run_day  # a ladder, a partial-fill exit, to noon, at explicit instants

    sims = [start_sim(seed=seed) for seed in (11, 11, 12)]
    try:
        a, b, c = (market_sample(gw) for gw in sims)
    finally:
        for gw in sims:
            gw.stop()
    fills_a, fills_b, fills_c = run_day(7), run_day(7), run_day(8)
    quotes_ok = a == b and a != c
    fills_ok = fills_a == fills_b and fills_a != fills_c and len(fills_a) > 0
    return [
        Result(
            "same seed → same quotes and greeks; other seed differs",
            "identical / differs",
            f"{'identical' if a == b else 'DIFFERENT'} / {'differs' if a != c else 'SAME'}",
            quotes_ok,
            f"{len(a)} samples (SPX, VIX, 4 options × 4 instants) from running simulators",
        ),
        Result(
            "same seed → same fills for the same order flow",
            "identical / differs",
            f"{'identical' if fills_a == fills_b else 'DIFFERENT'} / {'differs' if fills_a != fills_c else 'SAME'}",
            fills_ok,
            f"{len(fills_a)} executions (seed 7) vs {len(fills_c)} (seed 8)",
        ),
    ]


# -- the market model's cost ------------------------------------------------------------------------------------
def bench_market(ws: Workspace) -> list[Result]:
    """Quotes and greeks for a hundred options at one instant: the simulator computes these on every tick."""
    from icbot.sim.market import Market

    samples = []
    for minute in range(10):  # ten fresh instants, so no cache hides the work
        market = Market(SESSION)
        ids = [o.con_id for o in market.options()][:100]
        t = ny_datetime(SESSION.isoformat(), f"10:{minute:02d}")
        t0 = real_monotonic()
        for con_id in ids:
            market.quote(con_id, t)
            market.greeks(con_id, t)
        samples.append(real_monotonic() - t0)
    median = statistics.median(samples)
    return [
        Result(
            "100 option quotes + greeks at one instant (median of 10)",
            "< 5 ms",
            f"{median * 1000:.1f} ms",
            median < 0.005,
            f"real; min {min(samples) * 1000:.1f} ms, max {max(samples) * 1000:.1f} ms",
        )
    ]


# -- 6. the demo ---------------------------------------------------------------------------------------------------
def bench_demo(ws: Workspace) -> list[Result]:
    t0 = real_monotonic()
    done = subprocess.run(
        [ICBOT, "demo", "--date", SESSION.isoformat(), "--db", str(ws.tmp / "demo.db")],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    took = real_monotonic() - t0
    note = f"exit {done.returncode}"
    if done.returncode != 0:
        note += f"; stderr: {done.stderr.strip()[-300:]}"
    return [
        Result("`icbot demo` wall time, exit 0", "< 60 s, 0", f"{took:.1f} s", took < 60 and done.returncode == 0, note)
    ]


# -- status and report, once the commands exist -----------------------------------------------------------------------
def timed_cli(args: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    t0 = real_monotonic()
    done = subprocess.run([ICBOT, *args], env=env, capture_output=True, text=True, timeout=60, check=False)
    return real_monotonic() - t0, done


STATUS_RUNS = 5
STATUS_TARGETS = (
    # (target, extra arguments, goal in real seconds) — docs/simulator.md, "Benchmarks"
    ("`icbot status --offline` (journal only)", ["--offline"], 0.3),
    ("`icbot status` with the gateway's answer", [], 1.5),
)


def bench_status(ws: Workspace) -> list[Result]:
    """`icbot status` as the trader runs it over SSH, during an open trade against a running simulator: the
    journal-only view and the view with the gateway's answer (orders, positions, the legs' mids).

    The median of 5 real runs each, after one warm-up run that builds the calendar cache next to the journal (as
    the first status after an install does) and writes Python's bytecode caches (a pip install compiles them;
    PYTHONDONTWRITEBYTECODE is dropped for these runs, or every run would recompile icbot's sources).
    """
    if not command_exists("status"):
        return [Result(target, f"< {goal:g} s", "not built yet", None) for target, _, goal in STATUS_TARGETS]
    gw = start_sim(start=f"{SESSION}T09:31:50", speed=5)
    try:
        cfg = write_config(ws.tmp / "status.yaml", gw.port, ws.tmp / "status.db")
        env = clean_env(**gw.env())
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        opened = subprocess.run(
            [ICBOT, "run-today", "--config", str(cfg)], env=env, capture_output=True, text=True, timeout=150
        )
        if opened.returncode != 0:
            why = f"run-today exit {opened.returncode}: {opened.stderr.strip()[-300:]}"
            return [Result(target, f"< {goal:g} s", "no open trade", False, why) for target, _, goal in STATUS_TARGETS]
        # From here on the day runs at speed 1, as a real one does (the simulator's own work then costs what a real
        # gateway's would, not five times that, on the cores the measured process needs).
        gw.set_speed(1.0)
        env = clean_env(**gw.env())
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        results = []
        for target, args, goal in STATUS_TARGETS:
            argv = ["status", *args, "--config", str(cfg)]
            timed_cli(argv, env)  # warm-up
            runs = [timed_cli(argv, env) for _ in range(STATUS_RUNS)]
            took = statistics.median(t for t, _ in runs)
            codes = sorted({done.returncode for _, done in runs})
            broker = {line for _, done in runs for line in done.stdout.splitlines() if line.startswith("broker:")}
            ok = took < goal and codes == [0] and (bool(args) or broker == {"broker: ok"})
            note = (
                f"median of {STATUS_RUNS}, min {min(t for t, _ in runs):.2f} s, max {max(t for t, _ in runs):.2f} s; "
                f"exit {codes}; {', '.join(sorted(broker))}"
            )
            odd = next((done for _, done in runs if done.returncode != 0), None)
            if odd is not None:
                note += f"; a run said: {(odd.stdout + odd.stderr).strip()[-400:]}"
            results.append(Result(target, f"< {goal:g} s", f"{took:.2f} s", ok, note))
        return results
    finally:
        gw.stop()


REPORT_RUNS = 3
REPORT_TARGETS = (
    # (target, extra arguments, goal in real seconds or None for information) — docs/simulator.md, "Benchmarks"
    ("`icbot report` to the terminal, 10 years", [], 1.0),
    ("`icbot report --csv FILE`, 10 years", ["--csv", "{tmp}/trades.csv"], 1.0),
    ("`icbot report --html FILE`, 10 years", ["--html", "{tmp}/report.html", "--starting-capital", "100000"], 2.0),
    ("  `icbot report --json`, 10 years", ["--json"], None),
)


def bench_report(ws: Workspace) -> list[Result]:
    """`icbot report` over ten years of daily trades (2,520, each with its eight leg executions, written through
    the real `Store`): the console script in a subprocess, start-up included. The median of 3 runs after one warm-up
    run that writes Python's bytecode caches (as a pip install does).
    """
    from tests.report_journal import seed_journal

    if not command_exists("report"):
        return [Result(target, f"< {goal:g} s", "not built yet", None) for target, _, goal in REPORT_TARGETS if goal]
    db = ws.tmp / "ten-years.db"
    n = seed_journal(db, trades=2520)
    cfg = write_config(ws.tmp / "report.yaml", 9, db)
    env = clean_env()
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    results = []
    for target, args, goal in REPORT_TARGETS:
        argv = ["report", "--config", str(cfg), *(a.format(tmp=ws.tmp) for a in args)]
        timed_cli(argv, env)  # warm-up
        runs = [timed_cli(argv, env) for _ in range(REPORT_RUNS)]
        took = statistics.median(t for t, _ in runs)
        codes = sorted({done.returncode for _, done in runs})
        size = max(len(done.stdout) for _, done in runs)
        note = (
            f"{n} trades; median of {REPORT_RUNS}, min {min(t for t, _ in runs):.2f} s, "
            f"max {max(t for t, _ in runs):.2f} s; exit {codes}; {size / 1024:.0f} KiB on stdout"
        )
        if codes != [0]:
            note += f"; stderr: {runs[0][1].stderr.strip()[-200:]}"
        ok = None if goal is None else (took < goal and codes == [0])
        results.append(Result(target, "(info)" if goal is None else f"< {goal:g} s", f"{took:.2f} s", ok, note))
    return results


def bench_check_idle(ws: Workspace) -> list[Result]:
    """`icbot check` with nothing open — what the scheduler fires every few minutes, almost always for nothing:
    a journal with a closed day in it, median of five runs after one warm-up (bytecode caches)."""
    from icbot.store.repo import Store

    db = ws.tmp / "check-idle.db"
    store = Store.open(db)
    try:
        at = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
        store.save_trade(SESSION, "paper", at, status="closed", quantity=1, credit=4.0, pnl=96.6)
    finally:
        store.close()
    cfg = ws.tmp / "check-idle.yaml"
    cfg.write_text(f"storage: {{db: {db}}}\n", encoding="utf-8")
    argv = ["check", "--config", str(cfg)]
    timed_cli(argv, clean_env())
    runs = [timed_cli(argv, clean_env()) for _ in range(5)]
    took = statistics.median(t for t, _ in runs)
    codes = sorted({done.returncode for _, done in runs})
    ok = took < 0.3 and codes == [0]
    return [
        Result(
            "`icbot check` with no open trade (median of 5)", "< 0.3 s, exit 0", f"{took:.2f} s", ok, f"exit {codes}"
        )
    ]


SUITE_GOAL = 150.0  # real seconds for `make pytest` on 2 cores (issue 14)
ROOT = Path(__file__).resolve().parent.parent


def bench_suite(ws: Workspace) -> list[Result]:
    """The whole test suite as `make test` runs it (`make pytest`: the same workers, the same caches), timed from
    outside; the lint and type checks before it take a few seconds more."""
    t0 = real_monotonic()
    done = subprocess.run(
        ["make", "-s", "pytest"], cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=1800, check=False
    )
    took = real_monotonic() - t0
    summary = next((line for line in reversed(done.stdout.splitlines()) if " in " in line and "passed" in line), "")
    ok = done.returncode == 0 and took <= SUITE_GOAL
    note = summary.strip("= ") or (done.stdout + done.stderr)[-300:]
    return [
        Result(
            "`make pytest`: the whole suite, real time", f"<= {SUITE_GOAL:.0f} s, all pass", f"{took:.0f} s", ok, note
        )
    ]


BENCHES: dict[str, Callable[[Workspace], list[Result]]] = {
    "check": bench_check_idle,
    "connect": bench_connect,
    "entry": bench_entry,
    "session": bench_session,
    "determinism": bench_determinism,
    "market": bench_market,
    "demo": bench_demo,
    "status": bench_status,
    "report": bench_report,
    "suite": bench_suite,
}


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("pass" if ok else "FAIL")


def print_table(results: list[Result]) -> None:
    rows = [("target", "goal", "measured", "result")] + [(r.target, r.goal, r.measured, verdict(r.ok)) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for n, row in enumerate(rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    notes = [r for r in results if r.note]
    if notes:
        print()
        for r in notes:
            print(f"- {r.target.strip()}: {r.note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"benchmarks to run: {', '.join(BENCHES)} (default: all)")
    parser.add_argument("--entry-runs", type=int, default=ENTRY_RUNS, help="run-todays measured by `entry`")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHES)}")
    names = args.names or list(BENCHES)
    print(f"icbot benchmarks on {platform.node()} ({os.cpu_count()} cores, Python {platform.python_version()})")
    results: list[Result] = []
    t0 = real_monotonic()
    with tempfile.TemporaryDirectory(prefix="icbot-bench-") as tmp:
        ws = Workspace(Path(tmp), entry_runs=max(1, args.entry_runs))
        for name in names:
            print(f"running {name} ...", flush=True)
            try:
                results.extend(BENCHES[name](ws))
            except Exception as exc:  # one broken benchmark must not hide the others' figures
                traceback.print_exc()
                results.append(Result(name, "runs", f"error: {type(exc).__name__}", False, str(exc)[:300]))
    print(f"\nbenchmarks took {real_monotonic() - t0:.0f} s real\n")
    print_table(results)
    missed = [r for r in results if r.ok is False]
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
