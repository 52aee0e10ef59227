"""`make report-check`: open `icbot report --html` pages in a real headless Chromium and check what a trader would see.

Not a pytest module (tests/report/test_html_browser.py runs one small page of it in the normal suite when Chromium is
installed). For each page it:

* writes a journal through the real store API and the page through the real `icbot` console script;
* loads the page in headless Chromium (a fresh profile, no background networking) with Chromium's own network log
  and console logging on, and dumps the DOM after the page's script ran;
* loads a copy of the page with a probe script added (the page's CSP admits inline scripts) that hovers every line
  chart, switches to the log scale, sorts the trade log by P/L and filters it, and writes what it saw into the DOM;
* takes a screenshot;

and checks: the script ran without an error (no console error, no `data-errors`), the page made no network request
(Chromium's net log shows none initiated by the page; the Resource Timing API counts none), every chart is drawn
(a non-empty path or bars in each SVG), the trade log has rows, hovering gives the day's figures, sorting and
filtering work.

    python -m tests.report_browser                  # both pages, screenshots to ./build/report-check
    python -m tests.report_browser --out DIR --trades 260
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import yaml

ICBOT = str(Path(sys.executable).parent / "icbot")
SMALL_FIRST = date(2024, 1, 2)
LARGE_FIRST = date(2016, 11, 24)  # ten years of weekdays end in 2026
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
)

# Added before </body> of a copy of the page: drives the page like a user and leaves the results in the DOM.
PROBE = """
<script>
(function () {
  var out = {hover: [], errors: []};
  try {
    var charts = document.querySelectorAll("svg.chart[data-series]");
    Array.prototype.forEach.call(charts, function (svg) {
      var scales = document.querySelector("#equity .scales");
      if (svg.classList.contains("log")) {
        var logButton = document.querySelector('.toggle button[data-scale="log"]');
        if (logButton.disabled) { out.hover.push({series: "log", skipped: "disabled"}); return; }
        logButton.click();
      }
      var rect = svg.querySelector(".hover");
      var box = rect.getBoundingClientRect();
      rect.dispatchEvent(new MouseEvent("mousemove", {bubbles: true, clientX: box.left + box.width * 0.6,
                                                      clientY: box.top + box.height / 2}));
      var tip = document.getElementById("tip");
      var dot = svg.querySelector(".dot");
      out.hover.push({series: svg.getAttribute("data-series"), log: svg.classList.contains("log"),
                      visible: svg.getBoundingClientRect().width > 0, tip: tip.hidden ? "" : tip.textContent,
                      dot: dot ? dot.getAttribute("cx") + "," + dot.getAttribute("cy") : ""});
      if (svg.classList.contains("log")) document.querySelector('.toggle button[data-scale="lin"]').click();
    });
    var bar = document.querySelector("svg rect.bar[data-tip]");
    if (bar) {
      var b = bar.getBoundingClientRect();
      bar.dispatchEvent(new MouseEvent("mousemove", {bubbles: true, clientX: b.left + 1, clientY: b.top + 1}));
      out.bar_tip = document.getElementById("tip").textContent;
    }
    var pnlHeader = document.querySelector('#log-table th[data-key="pnl"]');
    pnlHeader.click();
    var firstAsc = document.querySelector("#log-table tbody tr td:last-child").textContent;
    pnlHeader.click();
    var firstDesc = document.querySelector("#log-table tbody tr td:last-child").textContent;
    out.sorted = [firstAsc, firstDesc];
    var reason = document.getElementById("f-reason");
    out.reasons = Array.prototype.map.call(reason.options, function (o) { return o.value; });
    reason.value = "stop";
    reason.dispatchEvent(new Event("input", {bubbles: true}));
    out.stop_rows = document.querySelectorAll("#log-table tbody tr").length;
    out.stop_count = document.getElementById("log-count").textContent;
  } catch (e) { out.errors.push(String(e)); }
  document.body.setAttribute("data-probe", JSON.stringify(out));
})();
</script>
"""


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


# -- pages ---------------------------------------------------------------------------------------------------------
def write_page(
    work: Path, name: str, *, trades: int, capital: float | None, odd_days: bool = False, first: date = SMALL_FIRST
) -> Path:
    """A journal of `trades` days from `first` (plus, with `odd_days`, an open, an unpriced and a no-trade day in
    2030) and its page."""
    from tests.report_journal import seed_journal

    db = work / f"{name}.db"
    seed_journal(db, trades=trades, first=first)
    if odd_days:
        add_odd_days(db)
    cfg = work / f"{name}.yaml"
    cfg.write_text(yaml.safe_dump({"mode": "paper", "storage": {"db": str(db)}}), encoding="utf-8")
    page = work / f"{name}.html"
    args = [ICBOT, "report", "--config", str(cfg), "--html", str(page)]
    if capital is not None:
        args += ["--starting-capital", str(capital)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ICBOT_")}
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"icbot report --html failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    return page


def add_odd_days(db: Path) -> None:
    """Days the report lists but never counts: one still open, one closed with an unknown P/L, one without a trade."""
    from icbot.clock import ny_datetime
    from icbot.store.repo import Store

    store = Store.open(db)
    try:
        for day, fields in (
            (date(2030, 1, 2), {"status": "open", "credit": 4.0, "quantity": 1, "short_put": 5000.0}),
            (date(2030, 1, 3), {"status": "closed", "exit_reason": "manual", "quantity": 1, "short_put": 5000.0}),
            (date(2030, 1, 4), {"status": "no_trade", "no_trade_reason": "VIX above the filter"}),
        ):
            store.save_trade(day, "paper", ny_datetime(day.isoformat(), "09:35"), **fields)
    finally:
        store.close()


# -- the browser ---------------------------------------------------------------------------------------------------
@dataclass
class Load:
    dom: str
    console: list[str]
    page_requests: list[str]
    browser_requests: list[str]


def run_chromium(
    chromium: str, page: Path, profile: Path, *extra: str, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    args = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, page.resolve().as_uri()]
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)


def load(chromium: str, page: Path, work: Path) -> Load:
    """The DOM after the page's script ran, the console's messages, and the network requests Chromium logged."""
    profile = Path(tempfile.mkdtemp(prefix="profile-", dir=work))
    netlog = work / f"{page.stem}.netlog.json"
    done = run_chromium(
        chromium,
        page,
        profile,
        "--enable-logging=stderr",
        "--log-level=0",
        f"--log-net-log={netlog}",
        "--virtual-time-budget=5000",
        "--dump-dom",
    )
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    page_requests, browser_requests = requests_in(netlog)
    return Load(done.stdout, console, page_requests, browser_requests)


def requests_in(netlog: Path) -> tuple[list[str], list[str]]:
    """URLs of requests the page started, and of those Chromium started for itself (not an origin)."""
    if not netlog.exists():
        raise RuntimeError(f"Chromium wrote no net log at {netlog}")
    data = json.loads(netlog.read_text(encoding="utf-8", errors="replace") or "{}")
    start_job = data.get("constants", {}).get("logEventTypes", {}).get("URL_REQUEST_START_JOB")
    page: list[str] = []
    browser: list[str] = []
    for event in data.get("events", []):
        params = event.get("params") or {}
        if event.get("type") != start_job or "url" not in params:
            continue
        own = params.get("initiator") == "not an origin" and "file://" not in str(params.get("network_isolation_key"))
        (browser if own else page).append(params["url"])
    return page, browser


def screenshot(chromium: str, page: Path, work: Path, png: Path, *, height: int) -> None:
    profile = Path(tempfile.mkdtemp(prefix="profile-", dir=work))
    done = run_chromium(
        chromium, page, profile, f"--window-size=1300,{height}", "--virtual-time-budget=5000", f"--screenshot={png}"
    )
    if not png.exists() or png.stat().st_size < 10_000:
        raise RuntimeError(f"no screenshot written: {done.stderr.strip()[-300:]}")


# -- what the DOM says ---------------------------------------------------------------------------------------------
class Charts(HTMLParser):
    """Each <svg class="chart …">: its label, the length of its line path and how many bars it has."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: list[dict[str, object]] = []
        self.body: dict[str, str | None] = {}
        self._in_svg = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "body":
            self.body = a
        elif tag == "svg" and "chart" in (a.get("class") or ""):
            self.charts.append({"label": a.get("aria-label"), "path": 0, "bars": 0, "empty": False})
            self._in_svg = True
        elif self._in_svg and self.charts:
            chart = self.charts[-1]
            cls = a.get("class") or ""
            if tag == "path" and "line" in cls.split():
                chart["path"] = max(int(chart["path"]), len(a.get("d") or ""))  # type: ignore[call-overload]
            elif tag == "rect" and "bar" in cls.split():
                chart["bars"] = int(chart["bars"]) + 1  # type: ignore[call-overload]
            elif tag == "text" and "empty" in cls.split():
                chart["empty"] = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._in_svg = False


@dataclass
class Verdict:
    page: str
    problems: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)

    def check(self, ok: bool, problem: str) -> None:
        if not ok:
            self.problems.append(problem)


def verdict(name: str, plain: Load, probed: Load, *, trades: int) -> Verdict:
    v = Verdict(name)
    charts = Charts()
    charts.feed(plain.dom)
    body = charts.body
    v.check(body.get("data-ready") == "1", "the page's script did not finish (no data-ready)")
    v.check(not body.get("data-errors"), f"script errors: {body.get('data-errors')}")
    v.check(not plain.console, f"console messages: {plain.console[:3]}")
    v.check(body.get("data-resources") == "0", f"the page fetched {body.get('data-resources')} resource(s)")
    v.check(not plain.page_requests, f"network requests from the page: {plain.page_requests[:3]}")
    v.check(len(charts.charts) >= 6, f"only {len(charts.charts)} charts")
    for c in charts.charts:
        drawn = int(c["path"]) > 20 or int(c["bars"]) > 0  # type: ignore[call-overload]
        v.check(drawn or (bool(c["empty"]) and "log" in str(c["label"])), f"chart {c['label']!r} is empty")
    rows = int(body.get("data-log-rows") or 0)
    v.check(rows == min(trades, 100), f"trade log shows {rows} rows, expected {min(trades, 100)}")
    v.facts.append(
        f"{len(charts.charts)} charts: "
        + ", ".join(f"{c['label']} ({c['path']} path chars, {c['bars']} bars)" for c in charts.charts)
    )
    v.facts.append(
        f"log rows on the first page: {rows}; Chromium's own requests (not the page's): {len(plain.browser_requests)}"
    )

    p = Charts()
    p.feed(probed.dom)
    probe = json.loads(p.body.get("data-probe") or "{}")
    v.check(not probed.console and not p.body.get("data-errors"), f"errors while probing: {probed.console[:3]}")
    v.check(not probe.get("errors"), f"probe failed: {probe.get('errors')}")
    v.check(not probed.page_requests, f"network requests while probing: {probed.page_requests[:3]}")
    for h in probe.get("hover", []):
        if h.get("skipped"):
            v.facts.append(f"hover {h['series']}: {h['skipped']}")
            continue
        v.check(
            bool(h.get("tip")) and re.search(r"\d{4}-\d{2}-\d{2}", h["tip"]) is not None, f"hover on {h} shows no day"
        )
        v.check(bool(h.get("dot")), f"hover on {h['series']} draws no dot")
        v.facts.append(f"hover {h['series']}{' (log)' if h.get('log') else ''}: {h.get('tip', '').splitlines()[:2]}")
    v.check(bool(probe.get("bar_tip")), "hovering a bar shows no tooltip")
    sorted_pnl = probe.get("sorted", ["", ""])
    v.check(sorted_pnl[0] != sorted_pnl[1], f"sorting by P/L changes nothing: {sorted_pnl}")
    v.facts.append(f"P/L sorted ascending starts {sorted_pnl[0]!r}, descending {sorted_pnl[1]!r}")
    v.facts.append(f"filter exit=stop: {probe.get('stop_count')}")
    return v


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.report_browser", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("build/report-check"), help="screenshots and pages go here")
    parser.add_argument("--trades", type=int, default=2520, help="trades in the large page (default 2520)")
    parser.add_argument("--small-only", action="store_true", help="only the small page (as the test suite does)")
    args = parser.parse_args(argv)
    chromium = find_chromium()
    if chromium is None:
        print("no Chromium found (make report-check installs Debian's chromium)", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    verdicts = []
    with tempfile.TemporaryDirectory(prefix="icbot-report-check-") as tmp:
        work = Path(tmp)
        pages: list[tuple[str, int, float | None, bool, date]] = [("small", 40, None, True, SMALL_FIRST)]
        if not args.small_only:
            pages.insert(0, ("large", args.trades, 100_000.0, False, LARGE_FIRST))
        for name, trades, capital, odd, first in pages:
            page = write_page(work, name, trades=trades, capital=capital, odd_days=odd, first=first)
            plain = load(chromium, page, work)
            probe_page = work / f"{name}-probe.html"
            probe_page.write_text(
                page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8"
            )
            probed = load(chromium, probe_page, work)
            png = args.out / f"report-{name}.png"
            screenshot(chromium, page, work, png, height=4200 if name == "large" else 3400)
            shutil.copy(page, args.out / f"report-{name}.html")
            v = verdict(name, plain, probed, trades=trades + (2 if odd else 0))
            v.facts.append(f"page {page.stat().st_size / 1024:.0f} KiB; screenshot {png}")
            verdicts.append(v)
    failed = False
    for v in verdicts:
        print(f"{v.page}: {'FAIL' if v.problems else 'ok'}")
        for fact in v.facts:
            print(f"  - {fact}")
        for problem in v.problems:
            print(f"  ! {problem}")
        failed = failed or bool(v.problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
