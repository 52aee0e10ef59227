"""`icbot doctor`'s verdicts: facts about the machine, the journal, the gateway and the scheduler → one line each.

The runner (icbot/runner/doctor.py) gathers `DoctorFacts` — each part None when it could not be gathered, with the
reason — and `assess` turns them into `Check`s: ✅ fine, ⚠️ worth a look (still a go), ❌ today's trade would fail
or is at risk (a no-go), ➖ not checked (and why). Every ❌ and ⚠️ says what to do. The exit code is 3 when any
check failed, else 0 (`exit_code`). Pure: every verdict is a row in tests/core/test_doctor.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from icbot.core.schedule import SessionTimes

# doctor's own IB client id is gateway.client_id + 4 (run-today +0, check +1, status +2, kill +3): it can run
# beside all of them without IB error 326 "client id already in use".
DOCTOR_CLIENT_OFFSET = 4
EXIT_GO = 0
EXIT_NO_GO = 3

DISK_FAIL_BYTES = 100 * 1024 * 1024  # below this the journal's next writes may fail
DISK_WARN_BYTES = 1024 * 1024 * 1024
CLOCK_MAX_SKEW_S = 1.0  # the entry is sent at 09:32:00 by this machine's clock
PAPER_PORTS = frozenset({4002, 7497})  # IB Gateway / TWS paper logins
LIVE_PORTS = frozenset({4001, 7496})
DELAYED_CODES = frozenset({10167, 10168})
NOT_SUBSCRIBED_CODES = frozenset({354, 10089})
COMPETING_CODE = 10197
REAL_TIME = 1
DELAYED_TYPES = frozenset({3, 4})
FROZEN = 2


class Level(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"

    @property
    def mark(self) -> str:
        return MARKS[self]


MARKS = {Level.OK: "✅", Level.WARN: "⚠️", Level.FAIL: "❌", Level.SKIP: "➖"}


@dataclass(frozen=True, slots=True)
class Check:
    key: str  # stable id for --json: config, mode_port, journal, …
    level: Level
    message: str  # what was found
    fix: str = ""  # what to do about it (empty when OK)


# -- facts -------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ConfigFacts:
    source: str | None  # the file read (None: built-in defaults)
    error: str | None = None  # the one-line ConfigError, when the file is invalid
    mode: str = "paper"
    host: str = "127.0.0.1"
    port: int = 4002
    client_id: int = 31  # doctor's own (gateway.client_id + 4)
    account: str = ""
    max_vix: float | None = None
    trading_class: str = "SPXW"
    symbol: str = "SPX"


@dataclass(frozen=True, slots=True)
class JournalFacts:
    path: str
    exists: bool
    writable: bool
    error: str | None = None  # not an icbot database, written by a newer icbot, unreadable …
    pending: tuple[str, ...] = ()  # migrations this icbot would still apply
    free_bytes: int | None = None


@dataclass(frozen=True, slots=True)
class DayFacts:
    now: datetime  # aware, New York
    session: SessionTimes | None  # today's, None on a holiday or weekend
    next_session: SessionTimes | None  # the next one after today
    closed_reason: str = ""  # "Thanksgiving", "weekend" …
    zone_label: str = "local"
    entry_local: datetime | None = None  # today's (else the next) entry in the machine's zone
    traded_today: bool | None = None  # the journal has a trade row for today (run-today reached the window)


@dataclass(frozen=True, slots=True)
class HaltFacts:
    halted: bool
    since: datetime | None = None
    reason: str = ""
    by: str = ""


@dataclass(frozen=True, slots=True)
class GatewayFacts:
    connected: bool
    error: str | None = None  # why not connected
    accounts: tuple[str, ...] = ()
    account: str | None = None  # the account that fits the mode
    account_error: str | None = None  # WrongAccount's line
    connectivity_lost: str | None = None  # IB 1100: the gateway has lost IB's servers


@dataclass(frozen=True, slots=True)
class ApiFacts:
    """The what-if probe: an order IB evaluates but never places (whatIf=True)."""

    read_only: bool = False
    error: str | None = None  # another refusal: cannot tell


@dataclass(frozen=True, slots=True)
class ClockFacts:
    skew_s: float | None  # this machine minus the gateway (positive: this machine is ahead)
    uncertainty_s: float = 0.0
    error: str | None = None


@dataclass(frozen=True, slots=True)
class FeedFacts:
    key: str  # data_index | data_vix | data_options
    name: str  # "SPX", "VIX", "SPXW options 2026-11-24"
    value: float | None = None  # the index level (indexes)
    md_type: int | None = None  # IB's market data type of the line(s): 1 real-time, 2 frozen, 3/4 delayed
    error_code: int | None = None
    error: str | None = None
    lines: int = 0  # option lines streamed
    puts_with_greeks: int = 0
    calls_with_greeks: int = 0


@dataclass(frozen=True, slots=True)
class OrderFact:
    order_id: int
    order_ref: str
    status: str
    trade_date: date | None  # parsed from an icbot orderRef


@dataclass(frozen=True, slots=True)
class HeldOption:
    local_symbol: str
    quantity: float
    expiry: date | None


@dataclass(frozen=True, slots=True)
class LeftoverFacts:
    orders: tuple[OrderFact, ...] = ()  # working icbot orders (orderRef `icbot:…`)
    positions: tuple[HeldOption, ...] = ()  # option positions of the traded class


@dataclass(frozen=True, slots=True)
class SchedulerFacts:
    platform: str
    installed: bool
    current: bool
    summary: str
    renew_due: bool = False
    today_missing: bool | None = None  # launchd: today's run-today instant is not among the installed firings


@dataclass(frozen=True, slots=True)
class AlertFacts:
    services: tuple[str, ...] = ()  # schemes of the loaded URLs
    error: str | None = None  # the settings cannot be loaded (run-today would exit 2)
    last_failed: tuple[datetime, str, str] | None = None  # (at, title, error) when the latest alert failed
    test_delivered: bool | None = None  # --test-alert: None when not sent
    test_error: str | None = None


@dataclass(frozen=True, slots=True)
class Unchecked:
    """A part that could not be gathered, and why (it becomes ➖ or ❌ depending on the part)."""

    reason: str


@dataclass(frozen=True, slots=True)
class DoctorFacts:
    config: ConfigFacts
    day: DayFacts | None = None
    journal: JournalFacts | Unchecked | None = None
    halt: HaltFacts | Unchecked | None = None
    gateway: GatewayFacts | None = None
    api: ApiFacts | Unchecked | None = None
    clock: ClockFacts | Unchecked | None = None
    feeds: tuple[FeedFacts, ...] = ()
    feeds_skipped: str = ""  # why the market data was not checked
    leftovers: LeftoverFacts | Unchecked | None = None
    scheduler: SchedulerFacts | Unchecked | None = None
    alerts: AlertFacts | None = None


# -- verdicts ----------------------------------------------------------------------------------------------
def assess(f: DoctorFacts) -> list[Check]:
    """All checks, in the order they are shown."""
    checks = [config_check(f.config)]
    if f.config.error is None:
        checks.append(mode_port_check(f.config))
    checks += journal_checks(f.journal)
    if f.day is not None:
        checks.append(session_check(f.day))
    checks.append(halt_check(f.halt))
    checks += gateway_checks(f)
    checks += feed_checks(f)
    checks.append(leftover_check(f))
    checks.append(scheduler_check(f.scheduler))
    checks.append(alert_check(f.alerts, f.config))
    return checks


def exit_code(checks: Sequence[Check]) -> int:
    return EXIT_NO_GO if any(c.level is Level.FAIL for c in checks) else EXIT_GO


def failed(checks: Sequence[Check]) -> list[Check]:
    return [c for c in checks if c.level is Level.FAIL]


def config_check(c: ConfigFacts) -> Check:
    if c.error is not None:
        return Check("config", Level.FAIL, f"invalid: {c.error}", "fix that key (docs/configuration.md)")
    where = c.source or "built-in defaults (no config file)"
    account = f", account {mask(c.account)}" if c.account else ""
    return Check("config", Level.OK, f"{where}: mode {c.mode}, gateway {c.host}:{c.port}{account}")


def mode_port_check(c: ConfigFacts) -> Check:
    if c.mode == "live" and c.port in PAPER_PORTS:
        return Check(
            "mode_port",
            Level.FAIL,
            f"mode live but gateway.port {c.port} is a paper port (IB Gateway 4002, TWS 7497)",
            "live trading connects to the live login: port 4001 (IB Gateway) or 7496 (TWS)",
        )
    if c.mode == "paper" and c.port in LIVE_PORTS:
        return Check(
            "mode_port",
            Level.FAIL,
            f"mode paper but gateway.port {c.port} is a live port (IB Gateway 4001, TWS 7496)",
            "paper trading connects to the paper login: port 4002 (IB Gateway) or 7497 (TWS)",
        )
    if c.port in PAPER_PORTS | LIVE_PORTS:
        kind = "paper" if c.port in PAPER_PORTS else "live"
        return Check("mode_port", Level.OK, f"mode {c.mode} on the {kind} port {c.port}")
    return Check(
        "mode_port", Level.OK, f"mode {c.mode} on port {c.port} (not an IB default: make sure it is the {c.mode} login)"
    )


def journal_checks(j: JournalFacts | Unchecked | None) -> list[Check]:
    if j is None:
        return []
    if isinstance(j, Unchecked):
        return [Check("journal", Level.SKIP, j.reason)]
    out: list[Check] = []
    if j.error is not None:
        out.append(Check("journal", Level.FAIL, f"{j.path}: {j.error}", "point storage.db at a usable file"))
    elif not j.writable:
        out.append(
            Check(
                "journal",
                Level.FAIL,
                f"{j.path} is not writable",
                "run-today journals every phase before it acts: fix the permissions of the file and its folder",
            )
        )
    elif not j.exists:
        out.append(
            Check("journal", Level.OK, f"{j.path} does not exist yet; the first run creates it (folder writable)")
        )
    else:
        out.append(Check("journal", Level.OK, f"{j.path} writable"))
    if j.error is None and j.exists:
        if j.pending:
            out.append(
                Check(
                    "schema",
                    Level.WARN,
                    f"older schema: {len(j.pending)} migration(s) pending ({', '.join(j.pending)})",
                    "the next run-today or check migrates it; run `icbot check` once now to do it ahead of 09:31",
                )
            )
        else:
            out.append(Check("schema", Level.OK, "schema current"))
    if j.free_bytes is not None:
        free = _size(j.free_bytes)
        if j.free_bytes < DISK_FAIL_BYTES:
            out.append(Check("disk", Level.FAIL, f"only {free} free next to the journal", "free disk space"))
        elif j.free_bytes < DISK_WARN_BYTES:
            out.append(Check("disk", Level.WARN, f"{free} free next to the journal", "free disk space soon"))
        else:
            out.append(Check("disk", Level.OK, f"{free} free"))
    return out


def session_check(d: DayFacts) -> Check:
    local = f" ({d.entry_local:%H:%M} {d.zone_label})" if d.entry_local is not None else ""
    if d.session is None:
        nxt = d.next_session
        after = f"; next session {nxt.date:%a %Y-%m-%d}, entry {nxt.entry_at:%H:%M} ET{local}" if nxt else ""
        why = f" ({d.closed_reason})" if d.closed_reason else ""
        return Check("session", Level.OK, f"today {d.now:%a %Y-%m-%d} is not a session{why}{after}")
    s = d.session
    early = f", early close {s.close:%H:%M} ET" if s.is_early_close else ""
    if d.now >= s.deadline_at:
        if d.traded_today is False:
            return Check(
                "session",
                Level.WARN,
                f"missed run: today's entry window closed at {s.deadline_at:%H:%M} ET and no run-today reached it",
                "was the Mac asleep or off at 09:31, or the agent unloaded? see `icbot schedule show`",
            )
        return Check(
            "session",
            Level.OK,
            f"today is a session; the entry window closed at {s.deadline_at:%H:%M} ET{early}",
        )
    return Check(
        "session",
        Level.OK,
        f"today is a session: entry {s.entry_at:%H:%M:%S} ET{local}, deadline {s.deadline_at:%H:%M} ET{early}",
    )


def halt_check(h: HaltFacts | Unchecked | None) -> Check:
    if h is None or isinstance(h, Unchecked):
        reason = h.reason if isinstance(h, Unchecked) else "the journal could not be read"
        return Check("halt", Level.SKIP, f"halt state unknown: {reason}")
    if h.halted:
        since = f" since {h.since:%Y-%m-%d %H:%M} UTC" if h.since else ""
        by = f" by {h.by}" if h.by else ""
        return Check(
            "halt",
            Level.FAIL,
            f"HALTED{since}{by}: {h.reason or 'kill'} — run-today will not trade",
            "`icbot resume` clears the halt when you want trading again",
        )
    return Check("halt", Level.OK, "not halted")


def gateway_checks(f: DoctorFacts) -> list[Check]:
    c, g = f.config, f.gateway
    where = f"{c.host}:{c.port}"
    if g is None:
        return [Check("gateway", Level.SKIP, "not checked (no valid configuration)")]
    if not g.connected:
        error = g.error or "no connection"
        if "326" in error:
            fix = (
                f"another program uses client id {c.client_id} (doctor's own: gateway.client_id + 4); "
                "stop it or change gateway.client_id"
            )
        elif "managed accounts" in error:
            fix = "log the gateway in (IBC, or by hand) and approve the second factor"
        else:
            fix = "start IB Gateway (IBC) and log it in; check gateway.host/port and the API settings (setup.md §3)"
        message = error if where in error else f"{where}: {error}"
        out = [Check("gateway", Level.FAIL, f"not reachable: {message}", fix)]
        why = "the gateway is not reachable"
        out += [Check(key, Level.SKIP, f"not checked: {why}") for key in ("account", "api", "clock")]
        return out
    out = []
    accounts = ", ".join(mask(a) for a in g.accounts) or "none"
    if g.connectivity_lost:
        out.append(
            Check(
                "gateway",
                Level.FAIL,
                f"{where} answers but has lost IB's servers (1100: {g.connectivity_lost})",
                "wait for 1102 (restored) or restart the gateway; quotes are stale meanwhile",
            )
        )
    else:
        out.append(Check("gateway", Level.OK, f"{where} reachable and logged in (accounts: {accounts})"))
    if g.account_error:
        out.append(
            Check(
                "account",
                Level.FAIL,
                g.account_error,
                "connect the gateway login that matches `mode`, or fix mode / gateway.account (setup.md §5)",
            )
        )
    else:
        out.append(Check("account", Level.OK, f"account {mask(g.account or '')} fits mode {c.mode}"))
    out.append(api_check(f.api, c))
    out.append(clock_check(f.clock))
    return out


def api_check(a: ApiFacts | Unchecked | None, c: ConfigFacts) -> Check:
    if c.mode == "experiment":
        return Check("api", Level.OK, "experiment mode sends no orders; a read-only API would not matter")
    if a is None or isinstance(a, Unchecked):
        return Check("api", Level.SKIP, f"read-only API not checked: {a.reason if a else 'no probe'}")
    if a.read_only:
        return Check(
            "api",
            Level.FAIL,
            "the API is read-only: every order would be refused (IB 321)",
            "untick Configure → Settings → API → Settings → Read-Only API (IBC: ReadOnlyApi=no)",
        )
    if a.error:
        return Check(
            "api", Level.WARN, f"could not tell whether orders are accepted: {a.error}", "see troubleshooting.md"
        )
    return Check("api", Level.OK, "orders accepted (what-if order evaluated; nothing placed)")


def clock_check(k: ClockFacts | Unchecked | None) -> Check:
    if k is None or isinstance(k, Unchecked):
        return Check("clock", Level.SKIP, f"clock not compared: {k.reason if k else 'no measurement'}")
    if k.skew_s is None:
        return Check("clock", Level.WARN, f"could not compare the clocks: {k.error or 'no answer'}", "")
    ahead = "ahead of" if k.skew_s > 0 else "behind"
    text = f"{abs(k.skew_s):.2f} s {ahead} the gateway (±{k.uncertainty_s:.2f} s)"
    if abs(k.skew_s) > CLOCK_MAX_SKEW_S:
        return Check(
            "clock",
            Level.FAIL,
            f"this machine's clock is {text}: the 09:32:00 entry would be sent at the wrong moment",
            "turn on automatic time (setup.md §9: sntp time.apple.com / timedatectl set-ntp true)",
        )
    return Check("clock", Level.OK, f"clock {text}")


def feed_checks(f: DoctorFacts) -> list[Check]:
    if f.gateway is None or not f.gateway.connected:
        return [Check("market_data", Level.SKIP, "market data not checked: the gateway is not reachable")]
    if f.feeds_skipped:
        return [Check("market_data", Level.SKIP, f"market data not checked: {f.feeds_skipped}")]
    return [feed_check(feed, f.config) for feed in f.feeds]


def feed_check(feed: FeedFacts, c: ConfigFacts) -> Check:
    key = feed.key
    vix = key == "data_vix"
    fail = Level.WARN if vix and c.max_vix is None else Level.FAIL
    needed = (
        " (only the VIX filter needs it, and it is off)"
        if vix and c.max_vix is None
        else " (the VIX filter is on: no VIX, no trade)"
        if vix
        else ""
    )
    subscribe = "subscribe in Client Portal → Settings → Market Data Subscriptions (setup.md §4)"
    if feed.error_code == COMPETING_CODE:
        return Check(
            key,
            fail,
            f"{feed.name}: no market data during a competing live session (IB 10197){needed}",
            "log out the other session of the live user (TWS, mobile app, web) — shared paper data allows one",
        )
    if feed.error_code in DELAYED_CODES or feed.md_type in DELAYED_TYPES:
        return Check(key, fail, f"{feed.name}: delayed data only, not real-time{needed}", subscribe)
    if feed.error_code in NOT_SUBSCRIBED_CODES:
        return Check(key, fail, f"{feed.name}: no market data subscription (IB {feed.error_code}){needed}", subscribe)
    if feed.error:
        return Check(key, fail, f"{feed.name}: {feed.error}{needed}", "see troubleshooting.md, Market data")
    if feed.lines:
        greeks = (
            f"{feed.puts_with_greeks} puts and {feed.calls_with_greeks} calls of {feed.lines} lines with model greeks"
        )
        if feed.puts_with_greeks == 0 or feed.calls_with_greeks == 0:
            return Check(
                key,
                Level.FAIL,
                f"{feed.name}: quotes arrive but {greeks}; run-today picks strikes by model delta",
                "check the OPRA and index subscriptions (greeks need the underlying's quote)",
            )
        return Check(key, Level.OK, f"{feed.name}: real-time, {greeks}")
    if feed.value is None:
        return Check(key, fail, f"{feed.name}: no quote arrived{needed}", subscribe)
    if feed.md_type == FROZEN:
        return Check(key, Level.WARN, f"{feed.name} {feed.value:.2f}: frozen (the market is closed)", "")
    return Check(key, Level.OK, f"{feed.name} {feed.value:.2f} real-time")


def leftover_check(f: DoctorFacts) -> Check:
    lo = f.leftovers
    if lo is None or isinstance(lo, Unchecked):
        reason = lo.reason if isinstance(lo, Unchecked) else "the gateway is not reachable"
        return Check("leftovers", Level.SKIP, f"orders and positions not checked: {reason}")
    day = f.day
    today = day.now.date() if day is not None else None
    before_entry = day is not None and day.session is not None and day.now < day.session.entry_at
    problems: list[str] = []
    warnings: list[str] = []
    notes: list[str] = []
    for o in lo.orders:
        what = f"order {o.order_id} {o.order_ref} ({o.status})"
        if today is None or o.trade_date is None or o.trade_date < today:
            problems.append(f"{what} from an earlier day")
        elif o.trade_date == today and before_entry:
            warnings.append(f"{what} already at the gateway before the entry")
        else:
            notes.append(what)
    for p in lo.positions:
        what = f"{p.local_symbol or 'option'} {p.quantity:+g}"
        if today is None or p.expiry is None or p.expiry < today:
            problems.append(f"position {what} from an earlier day")
        elif p.expiry == today and before_entry:
            problems.append(f"position {what} expiring today: run-today never adds to a position")
        elif p.expiry > today:
            warnings.append(f"position {what} expiring {p.expiry}: check counts it as not icbot's")
        else:
            notes.append(f"position {what}")
    if problems:
        return Check(
            "leftovers",
            Level.FAIL,
            "; ".join(problems + warnings),
            "close or cancel them in TWS / the IB app (or `icbot kill` for today's), then run doctor again",
        )
    if warnings:
        return Check("leftovers", Level.WARN, "; ".join(warnings), "make sure you know why they are there")
    if notes:
        return Check("leftovers", Level.OK, f"today's trade at the gateway: {'; '.join(notes)}")
    return Check("leftovers", Level.OK, "no icbot order or option position left from an earlier day")


def scheduler_check(s: SchedulerFacts | Unchecked | None) -> Check:
    if s is None or isinstance(s, Unchecked):
        return Check("scheduler", Level.SKIP, f"scheduler not checked: {s.reason if s else 'unknown'}")
    fix = "run `icbot schedule install` (it replaces the agents; `icbot schedule show` explains)"
    if not s.installed:
        return Check("scheduler", Level.FAIL, f"{s.platform}: not installed — nothing starts run-today", fix)
    if s.today_missing:
        return Check(
            "scheduler",
            Level.FAIL,
            f"{s.platform}: the installed agent does not fire at today's 09:31 ET ({s.summary})",
            fix,
        )
    if not s.current or s.renew_due:
        return Check("scheduler", Level.WARN, f"{s.platform}: {s.summary}", fix)
    return Check("scheduler", Level.OK, f"{s.platform}: {s.summary}")


def alert_check(a: AlertFacts | None, c: ConfigFacts) -> Check:
    if a is None:
        return Check("alerts", Level.SKIP, "alert settings not checked")
    if a.error:
        return Check(
            "alerts",
            Level.FAIL,
            f"the alert settings cannot be loaded: {a.error}",
            "run-today would stop with exit 2 before trading; fix the apprise file or ICBOT_NOTIFY_URLS (setup.md §6)",
        )
    if not a.services:
        level = Level.FAIL if c.mode == "live" else Level.WARN
        return Check(
            "alerts",
            level,
            "no alert URL configured: nobody hears about a failure",
            "add an apprise file (notify.apprise_config, chmod 600) or ICBOT_NOTIFY_URLS (setup.md §6)",
        )
    names = ", ".join(a.services)
    if a.test_delivered is False:
        return Check(
            "alerts",
            Level.FAIL,
            f"the test alert was not delivered ({names}): {a.test_error or 'no service accepted it'}",
            "fix the URLs; `apprise -vv … --config FILE` and `… --tag icbot` show each service's answer",
        )
    if a.test_delivered:
        return Check("alerts", Level.OK, f"test alert delivered ({names}) — check that it arrived")
    if a.last_failed is not None:
        at, title, error = a.last_failed
        return Check(
            "alerts",
            Level.WARN,
            f"{names} loaded, but the last alert ({at:%Y-%m-%d %H:%M} UTC, {title!r}) was not delivered: {error}",
            "`icbot doctor --test-alert` sends a test alert",
        )
    return Check("alerts", Level.OK, f"{names} loaded (`--test-alert` sends a test)")


def mask(account: str) -> str:
    """DU1234567 → DU…567: enough to recognise, not to copy into a screenshot."""
    return account if len(account) <= 5 else f"{account[:2]}…{account[-3:]}"


def _size(n: int) -> str:
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("kB", 1024)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def summary_line(checks: Sequence[Check]) -> str:
    bad = failed(checks)
    warn = [c for c in checks if c.level is Level.WARN]
    if bad:
        return f"NO-GO: {len(bad)} check(s) failed: {', '.join(c.key for c in bad)}"
    if warn:
        return f"GO, with {len(warn)} warning(s): {', '.join(c.key for c in warn)}"
    return "GO: every check passed"
