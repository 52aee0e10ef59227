"""`icbot report`'s outputs over a journal written through the real store: terminal (plain and coloured), CSV,
JSON, the self-contained HTML page, the command line's errors, and what the command imports."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from rich.console import Console

from icbot.core.metrics import LEG_NAMES, LogFilter, trade_log
from icbot.report import export, svg
from icbot.report.html import json_script, render_page
from icbot.report.journal import CapitalChoice, load_report, open_journal, with_legs
from icbot.report.terminal import full
from tests.report.conftest import FIRST, NET_LIQUIDATION, TRADES

JSON_KEYS = (
    "mode",
    "trades",
    "win_rate",
    "total_pnl",
    "cagr",
    "max_drawdown_pct",
    "mar",
    "capture_rate",
    "avg_minutes_in_trade",
    "exit_reasons",
)


def report_of(journal: Path, **kw: object):
    reader = open_journal(journal)
    assert reader is not None
    try:
        return load_report(reader, mode=str(kw.pop("mode", "paper")), target_delta=15.0, **kw)  # type: ignore[arg-type]
    finally:
        reader.close()


# -- what the journal gives ------------------------------------------------------------------------------------------
def test_the_report_counts_closed_priced_trades_and_marks_the_rest(journal):
    r = report_of(journal)
    assert r.stats.trades == TRADES
    assert r.not_counted == {"open": 1, "pnl_unknown": 1}
    assert r.no_trade_days == 1
    assert r.capital is not None and r.capital.amount == NET_LIQUIDATION
    assert r.capital.source == f"net liquidation journaled on {FIRST}"
    assert r.starting_capital == NET_LIQUIDATION
    assert r.ending_capital == pytest.approx(NET_LIQUIDATION + r.stats.total_pnl)
    assert all(len(row.legs) == 4 and row.legs[0].open_price is not None for row in r.counted)


def test_a_capital_given_on_the_command_line_comes_first(journal):
    r = report_of(journal, capital=CapitalChoice(flag=100_000.0, config=50_000.0))
    assert (r.capital.amount, r.capital.source) == (100_000.0, "--starting-capital")
    r = report_of(journal, capital=CapitalChoice(config=50_000.0))
    assert r.capital.source == "report.starting_capital in the configuration"


def test_modes_are_reported_apart(journal):
    r = report_of(journal, mode="experiment")
    assert r.stats.trades == 1 and r.stats.total_pnl == 75.0 and r.exit_reasons["take_profit"].count == 1
    assert r.capital is None and r.no_trade_days == 0
    assert report_of(journal, mode="live").stats.trades == 0


def test_a_period(journal):
    r = report_of(journal, start=date(2025, 2, 1), end=date(2025, 2, 28))
    assert {row.trade_date.month for row in r.rows} == {2}
    assert r.start == date(2025, 2, 1) and r.end == date(2025, 2, 28) and r.period_days == 28
    whole = report_of(journal)
    before = sum(row.pnl for row in whole.counted if row.trade_date < date(2025, 2, 1))
    assert r.starting_capital == pytest.approx(NET_LIQUIDATION + before)


def test_the_terminal_log_gets_its_legs_on_demand(journal):
    reader = open_journal(journal)
    assert reader is not None
    try:
        r = load_report(reader, mode="paper", target_delta=15.0, legs=False)
        assert all(row.legs[0].open_price is None for row in r.counted)
        shown = with_legs(reader, trade_log(r.rows, last=3), target_delta=15.0)
    finally:
        reader.close()
    full_rows = {row.trade_date: row for row in report_of(journal).rows}
    assert shown == [full_rows[row.trade_date] for row in shown]


# -- terminal -------------------------------------------------------------------------------------------------------
def test_terminal_in_a_pipe_is_plain_and_complete(icbot):
    done = icbot("--last", "5")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "\x1b[" not in out
    for block in (
        "icbot report · paper",
        "Trades",
        "Capital",
        "Execution",
        "Exits by reason",
        "By year and month",
        "By weekday",
        "Trade log",
        "net liquidation journaled on 2025-01-02",
    ):
        assert block in out, block
    assert "trade log: 5 of 42 traded day(s)" in out
    assert "not counted in the figures (marked in the log, never guessed): 1 open, 1 pnl unknown" in out
    assert re.search(r"[+−]\d{4}P \d+\.\d\d", out)  # a leg: side, strike, right, price


def test_terminal_colours_pnl_unless_no_color(journal, monkeypatch):
    r = report_of(journal)
    log = trade_log(r.rows, last=3)
    coloured = io.StringIO()
    Console(file=coloured, force_terminal=True, color_system="standard", width=160).print(full(r, log))
    assert "\x1b[32m" in coloured.getvalue() or "\x1b[31m" in coloured.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    plain = io.StringIO()
    Console(file=plain, force_terminal=True, width=160).print(full(r, log))
    assert not re.search(r"\x1b\[(3[0-7]|9[0-7])m", plain.getvalue())


def test_narrow_terminals_get_years_and_recent_months_instead_of_the_grid(journal):
    r = report_of(journal)
    narrow = io.StringIO()
    Console(file=narrow, width=80).print(full(r, []))
    assert "By year" in narrow.getvalue() and "By month (the last 12)" in narrow.getvalue()
    assert "By year and month" not in narrow.getvalue()


def test_filters_and_sort_shape_the_log_not_the_figures(icbot):
    done = icbot("--exit-reason", "stop", "--sort", "pnl", "--desc", "--last", "0", "--json")
    data = json.loads(done.stdout)
    assert data["trades"] == TRADES  # the figures cover every trade
    pnls = [t["pnl"] for t in data["trade_log"]]
    assert pnls == sorted(pnls, reverse=True) and {t["exit_reason"] for t in data["trade_log"]} <= {"stop"}
    assert len(pnls) == data["exit_reasons"]["stop"]["count"]


# -- CSV and JSON ---------------------------------------------------------------------------------------------------
def test_csv_one_row_per_trade_with_every_leg(icbot, tmp_path):
    to_file = tmp_path / "trades.csv"
    done = icbot("--csv", str(to_file))
    assert done.returncode == 0 and f"wrote 42 trade(s) to {to_file}" in done.stdout
    stdout = icbot("--csv", "-")
    assert stdout.returncode == 0 and stdout.stdout == to_file.read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(stdout.stdout)))
    assert list(rows[0]) == list(export.CSV_COLUMNS)
    assert len(rows) == TRADES + 2
    first = rows[0]
    assert first["trade_date"] == FIRST.isoformat() and first["weekday"] == "Thu"
    assert re.fullmatch(r"2025-01-02T09:32:\d\d-05:00", first["opened_at"])
    for name in LEG_NAMES:
        for field in export.LEG_FIELDS:
            assert re.fullmatch(r"-?\d+(\.\d+)?", first[f"{name}_{field}"]), (name, field)
    assert re.fullmatch(r"-?\d+(\.\d+)?", first["pnl"]) and "$" not in stdout.stdout
    unpriced = next(r for r in rows if r["trade_date"] == "2025-03-04")
    assert unpriced["pnl"] == "" and unpriced["counted"] == "false" and "pnl_unknown" in unpriced["flags"]


def test_json_has_the_metrics_and_the_trades(icbot):
    done = icbot("--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    for key in JSON_KEYS:
        assert key in data, key
    assert data["mode"] == "paper" and data["trades"] == TRADES
    assert set(data["exit_reasons"]) == {"take_profit", "stop", "time_exit", "manual", "expired", "unknown"}
    assert len(data["trade_log"]) == TRADES + 2 and set(data["trade_log"][0]) == set(export.CSV_COLUMNS)
    assert data["capital_source"] == "net liquidation journaled on 2025-01-02"
    assert sum(p["total_pnl"] for p in data["by_month"]) == pytest.approx(data["total_pnl"])
    assert data["equity"][0] == {
        "day": FIRST.isoformat(),
        "equity": NET_LIQUIDATION,
        "pnl": 0.0,
        "drawdown": 0.0,
        "drawdown_pct": 0.0,
    }


# -- the page -------------------------------------------------------------------------------------------------------
def test_the_page_is_self_contained(journal, tmp_path, icbot):
    page = tmp_path / "report.html"
    done = icbot("--html", str(page))
    assert done.returncode == 0 and "opens offline" in done.stdout
    html = page.read_text(encoding="utf-8")
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert not re.search(r"\b(src|href)\s*=", html, re.IGNORECASE)
    assert not re.search(r"https?:|//[a-z0-9.-]+\.[a-z]{2,}/|@import|url\(", html, re.IGNORECASE)
    charts = re.findall(r"<svg class=\"chart[^>]*>.*?</svg>", html, re.DOTALL)
    assert len(charts) == 6
    assert all('<path class="line" d="M' in c or '<rect class="bar' in c for c in charts)
    data = json.loads(re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S)[1])
    assert len(data["log"]) == TRADES + 2 and len(data["equity"]["x"]) == TRADES + 1
    assert len(html.encode()) < 200_000


def test_the_page_embeds_data_that_cannot_end_its_script(journal):
    text = json_script({"note": "</script><script>alert(1)</script> <!--"})
    assert "</script" not in text and "<!--" not in text
    assert json.loads(text)["note"] == "</script><script>alert(1)</script> <!--"


def test_the_page_without_trades_still_renders(tmp_path):
    from icbot.core.metrics import build_report

    html = render_page(build_report([], mode="live", target_delta=15.0))
    assert "no trades" in html and html.count("<svg") == 6


def test_the_log_filter_the_page_starts_with(journal):
    html = render_page(report_of(journal), initial={"exit_reasons": ["stop"], "weekdays": [0], "sort": "pnl"})
    assert '"initial":{"exit_reasons":["stop"],"weekdays":[0],"sort":"pnl"}' in html


def test_svg_scales():
    assert svg.nice_ticks(0, 100, 5) == [0, 20, 40, 60, 80, 100]
    assert svg.nice_ticks(-1088.4, 411.6, 5) == [-1500, -1000, -500, 0, 500]
    assert svg.nice_ticks(5, 5)[0] <= 5 <= svg.nice_ticks(5, 5)[-1]
    ticks = svg.date_ticks(date(2016, 11, 24), date(2026, 7, 22))
    assert [t for _, t in ticks] == ["2018", "2020", "2022", "2024", "2026"]
    assert len(svg.date_ticks(date(2025, 1, 2), date(2025, 2, 26))) <= 8
    assert svg.date_ticks(date(2025, 1, 2), date(2025, 1, 2)) == [(date(2025, 1, 2).toordinal(), "Jan 02")]


# -- the command line -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--from", "2025-13-01"], "--from: '2025-13-01' is not a date YYYY-MM-DD"),
        (["--from", "2025-03-01", "--to", "2025-02-01"], "--from 2025-03-01 is after --to 2025-02-01"),
        (["--sort", "luck"], "--sort: 'luck' is not a sort key"),
        (["--mode", "real"], "--mode: 'real' is not a mode"),
        (["--weekday", "sunday-ish"], "--weekday: 'sunday-ish' is not a weekday"),
        (["--exit-reason", "luck"], "--exit-reason: 'luck' is not an exit reason"),
        (["--json", "--csv", "-"], "--json and --csv - both write to stdout"),
        (["--starting-capital", "0"], "--starting-capital: 0 must be above 0"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(icbot, args, says):
    done = icbot(*args)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and says in done.stderr, done.stderr


def test_without_a_journal_the_report_is_empty_not_an_error(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"storage: {{db: {tmp_path / 'none.db'}}}\n", encoding="utf-8")
    done = subprocess.run(
        [str(Path(sys.executable).parent / "icbot"), "report", "--config", str(cfg), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["trades"] == 0 and data["trade_log"] == [] and data["win_rate"] is None
    assert not (tmp_path / "none.db").exists()  # a report never creates a journal


def test_the_report_loads_neither_pandas_nor_pydantic_nor_the_broker(config):
    code = (
        "import sys; sys.argv = ['icbot', 'report', '--config', sys.argv[1], '--last', '2', '--weekday', 'mon']\n"
        "from icbot.cli.app import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "from icbot import deferred_numpy\n"  # numpy's stand-in (icbot/deferred_numpy.py) is not numpy
        "heavy = [m for m in ('pandas', 'numpy', 'sqlite_utils', 'exchange_calendars', 'pydantic', 'ib_async') "
        "if m in sys.modules and not (m == 'numpy' and deferred_numpy.is_deferred())]\n"
        "print('HEAVY', heavy, file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code, str(config)], capture_output=True, text=True, timeout=60)
    assert "HEAVY []" in done.stderr, done.stderr


def test_the_trading_path_does_not_import_the_report():
    code = (
        "import sys, icbot.runner.run_today, icbot.runner.check; print([m for m in sys.modules if 'icbot.report' in m])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_log_filter_by_weekday_and_vix(journal):
    r = report_of(journal)
    fridays = trade_log(r.rows, where=LogFilter(weekdays=frozenset({4}), max_vix=20.0))
    assert fridays and all(row.weekday == "Fri" and row.vix is not None and row.vix <= 20 for row in fridays)
