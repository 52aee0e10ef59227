"""`icbot doctor`'s verdicts (icbot.core.doctor): facts in, one line per check out — each failure a row."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta

import pytest

from icbot.config import EntryConfig, ExitsConfig
from icbot.core import doctor as dr
from icbot.core.doctor import (
    AlertFacts,
    ApiFacts,
    ClockFacts,
    ConfigFacts,
    DayFacts,
    DoctorFacts,
    FeedFacts,
    GatewayFacts,
    HaltFacts,
    HeldOption,
    JournalFacts,
    LeftoverFacts,
    Level,
    OrderFact,
    SchedulerFacts,
    Unchecked,
)
from icbot.core.schedule import NEW_YORK, times_for_session

DAY = date(2026, 11, 24)
SESSION = times_for_session(
    DAY,
    datetime.combine(DAY, time(9, 30), NEW_YORK),
    datetime.combine(DAY, time(16, 0), NEW_YORK),
    EntryConfig(),
    ExitsConfig(),
)
AT_0915 = datetime.combine(DAY, time(9, 15), NEW_YORK)
GB = 1024**3

GOOD = DoctorFacts(
    config=ConfigFacts("/Users/me/icbot/config.yaml", port=4002, client_id=35),
    day=DayFacts(AT_0915, SESSION, None, zone_label="Europe/Berlin"),
    journal=JournalFacts("/j/icbot.db", exists=True, writable=True, free_bytes=50 * GB),
    halt=HaltFacts(False),
    gateway=GatewayFacts(True, accounts=("DU1234567",), account="DU1234567"),
    api=ApiFacts(),
    clock=ClockFacts(0.02, 0.03),
    feeds=(
        FeedFacts("data_index", "SPX", value=6000.0, md_type=1),
        FeedFacts("data_vix", "VIX", value=16.0, md_type=1),
        FeedFacts("data_options", "SPXW options", md_type=1, lines=8, puts_with_greeks=4, calls_with_greeks=4),
    ),
    leftovers=LeftoverFacts(),
    scheduler=SchedulerFacts("launchd", True, True, "current (local times for Europe/Berlin through 2027-11-24)"),
    alerts=AlertFacts(services=("pover", "mailtos")),
)


def levels(facts: DoctorFacts) -> dict[str, Level]:
    return {c.key: c.level for c in dr.assess(facts)}


def check(facts: DoctorFacts, key: str) -> dr.Check:
    [found] = [c for c in dr.assess(facts) if c.key == key]
    return found


def test_everything_fine_is_a_go_with_every_check_on_one_line():
    checks = dr.assess(GOOD)
    assert [c.key for c in checks] == [
        "config",
        "mode_port",
        "journal",
        "schema",
        "disk",
        "session",
        "halt",
        "gateway",
        "account",
        "api",
        "clock",
        "data_index",
        "data_vix",
        "data_options",
        "leftovers",
        "scheduler",
        "alerts",
    ]
    assert all(c.level is Level.OK for c in checks), [c for c in checks if c.level is not Level.OK]
    assert dr.exit_code(checks) == 0
    assert dr.summary_line(checks) == "GO: every check passed"
    assert check(GOOD, "session").message == ("today is a session: entry 09:32:00 ET, deadline 09:33 ET")


# (what changes, the check, its level, words its message or fix must contain)
ROWS = [
    ("invalid config", {"config": ConfigFacts("/c.yaml", error='mode: "life" is not one of paper, live')},
     "config", Level.FAIL, "invalid: mode"),
    ("live on a paper port", {"config": ConfigFacts("/c", mode="live", port=4002, account="U1")},
     "mode_port", Level.FAIL, "paper port"),
    ("paper on the TWS live port", {"config": ConfigFacts("/c", mode="paper", port=7496)},
     "mode_port", Level.FAIL, "live port"),
    ("experiment on a live port is fine", {"config": ConfigFacts("/c", mode="experiment", port=4001)},
     "mode_port", Level.OK, "live port 4001"),
    ("journal not writable", {"journal": JournalFacts("/j", True, False, free_bytes=9 * GB)},
     "journal", Level.FAIL, "not writable"),
    ("foreign journal", {"journal": JournalFacts("/j", True, True, error="not an icbot database")},
     "journal", Level.FAIL, "not an icbot database"),
    ("old schema", {"journal": JournalFacts("/j", True, True, pending=("m003_installation",), free_bytes=9 * GB)},
     "schema", Level.WARN, "m003_installation"),
    ("no journal yet", {"journal": JournalFacts("/j", False, True, free_bytes=9 * GB)},
     "journal", Level.OK, "does not exist yet"),
    ("disk almost full", {"journal": JournalFacts("/j", True, True, free_bytes=50 * 1024**2)},
     "disk", Level.FAIL, "50.0 MB"),
    ("disk getting full", {"journal": JournalFacts("/j", True, True, free_bytes=500 * 1024**2)},
     "disk", Level.WARN, "500.0 MB"),
    ("halted", {"halt": HaltFacts(True, datetime(2026, 11, 23, 15, 0), "manual stop", "kill")},
     "halt", Level.FAIL, "icbot resume"),
    ("gateway down", {"gateway": GatewayFacts(False, error="IB Gateway at 127.0.0.1:4002 did not accept a connection")},
     "gateway", Level.FAIL, "start IB Gateway"),
    ("client id taken", {"gateway": GatewayFacts(False, error="IB 326: client id is already in use (client_id 35)")},
     "gateway", Level.FAIL, "client id 35"),
    ("not logged in", {"gateway": GatewayFacts(False, error="the gateway reported no managed accounts")},
     "gateway", Level.FAIL, "log the gateway in"),
    ("gateway lost IB", {"gateway": GatewayFacts(True, accounts=("DU1",), account="DU1", connectivity_lost="lost")},
     "gateway", Level.FAIL, "1100"),
    ("wrong account", {"gateway": GatewayFacts(True, accounts=("U7",), account_error="mode paper needs DU…")},
     "account", Level.FAIL, "matches `mode`"),
    ("read-only API", {"api": ApiFacts(read_only=True)}, "api", Level.FAIL, "Read-Only API"),
    ("what-if refused otherwise", {"api": ApiFacts(error="order rejected by IB: 201 margin")},
     "api", Level.WARN, "could not tell"),
    ("clock 3 s behind", {"clock": ClockFacts(-3.2, 0.03)}, "clock", Level.FAIL, "3.20 s behind"),
    ("clock unmeasured", {"clock": ClockFacts(None, error="no answer")}, "clock", Level.WARN, "no answer"),
    ("SPX delayed", {"feeds": (FeedFacts("data_index", "SPX", error_code=10167, error="delayed"),)},
     "data_index", Level.FAIL, "delayed data only"),
    ("SPX delayed by type", {"feeds": (FeedFacts("data_index", "SPX", value=6000.0, md_type=3),)},
     "data_index", Level.FAIL, "delayed data only"),
    ("SPX not subscribed", {"feeds": (FeedFacts("data_index", "SPX", error_code=354, error="x"),)},
     "data_index", Level.FAIL, "no market data subscription"),
    ("competing session", {"feeds": (FeedFacts("data_options", "SPXW", error_code=10197, error="x"),)},
     "data_options", Level.FAIL, "log out the other session"),
    ("no greeks", {"feeds": (FeedFacts("data_options", "SPXW", md_type=1, lines=8, puts_with_greeks=0),)},
     "data_options", Level.FAIL, "model delta"),
    ("no VIX, filter off", {"feeds": (FeedFacts("data_vix", "VIX", error_code=354, error="x"),)},
     "data_vix", Level.WARN, "filter"),
    ("no SPX quote at all", {"feeds": (FeedFacts("data_index", "SPX"),)}, "data_index", Level.FAIL, "no quote"),
    ("earlier day's order", {"leftovers": LeftoverFacts(
        orders=(OrderFact(7, "icbot:2026-11-23:paper:stop/abc", "Submitted", date(2026, 11, 23)),))},
     "leftovers", Level.FAIL, "from an earlier day"),
    ("today's order before the entry", {"leftovers": LeftoverFacts(
        orders=(OrderFact(7, "icbot:2026-11-24:paper:entry/abc", "Submitted", DAY),))},
     "leftovers", Level.WARN, "before the entry"),
    ("position expiring today before the entry", {"leftovers": LeftoverFacts(
        positions=(HeldOption("SPXW  261124P05800000", -1, DAY),))},
     "leftovers", Level.FAIL, "never adds"),
    ("position of an earlier day", {"leftovers": LeftoverFacts(
        positions=(HeldOption("SPXW  261123P05800000", -1, date(2026, 11, 23)),))},
     "leftovers", Level.FAIL, "earlier day"),
    ("later expiry", {"leftovers": LeftoverFacts(
        positions=(HeldOption("SPXW  261218P05000000", 1, date(2026, 12, 18)),))},
     "leftovers", Level.WARN, "not icbot's"),
    ("scheduler missing", {"scheduler": SchedulerFacts("systemd", False, False, "not installed")},
     "scheduler", Level.FAIL, "icbot schedule install"),
    ("scheduler stale", {"scheduler": SchedulerFacts("launchd", True, False, "stale: written for time zone X")},
     "scheduler", Level.WARN, "stale"),
    ("scheduler misses today", {"scheduler": SchedulerFacts("launchd", True, False, "stale: zone", today_missing=True)},
     "scheduler", Level.FAIL, "does not fire at today's 09:31 ET"),
    ("local times run out", {"scheduler": SchedulerFacts("launchd", True, True, "current, but …", renew_due=True)},
     "scheduler", Level.WARN, "icbot schedule install"),
    ("apprise file unreadable", {"alerts": AlertFacts(error="notify.apprise_config: … chmod 600")},
     "alerts", Level.FAIL, "exit 2"),
    ("no URL, paper", {"alerts": AlertFacts()}, "alerts", Level.WARN, "nobody hears"),
    ("test alert failed", {"alerts": AlertFacts(services=("json",), test_delivered=False, test_error="refused")},
     "alerts", Level.FAIL, "refused"),
    ("test alert delivered", {"alerts": AlertFacts(services=("json",), test_delivered=True)},
     "alerts", Level.OK, "test alert delivered"),
    ("last alert failed", {"alerts": AlertFacts(services=("json",),
                                                 last_failed=(datetime(2026, 11, 23, 14, 33), "no trade", "timeout"))},
     "alerts", Level.WARN, "--test-alert"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "key", "level", "words"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_each_problem_is_one_line_with_what_to_do(change, key, level, words):
    facts = replace(GOOD, **change)
    c = check(facts, key)
    assert c.level is level, c
    assert words in c.message + " " + c.fix, c
    if level in (Level.FAIL, Level.WARN) and key not in ("clock",):
        assert c.fix, c
    assert dr.exit_code(dr.assess(facts)) == (3 if level is Level.FAIL else 0)


def test_no_url_in_live_mode_is_a_no_go():
    facts = replace(GOOD, config=ConfigFacts("/c", mode="live", port=4001, account="U1"), alerts=AlertFacts())
    assert check(facts, "alerts").level is Level.FAIL


def test_vix_missing_with_the_filter_on_is_a_no_go():
    facts = replace(
        GOOD,
        config=ConfigFacts("/c", max_vix=30.0),
        feeds=(FeedFacts("data_vix", "VIX", error_code=354, error="x"),),
    )
    c = check(facts, "data_vix")
    assert c.level is Level.FAIL and "no VIX, no trade" in c.message


def test_gateway_down_skips_what_needs_it():
    facts = replace(GOOD, gateway=GatewayFacts(False, error="refused"), api=None, clock=None, feeds=(), leftovers=None)
    got = levels(facts)
    assert got["gateway"] is Level.FAIL
    for key in ("account", "api", "clock", "market_data", "leftovers"):
        assert got[key] is Level.SKIP, key
    assert dr.summary_line(dr.assess(facts)) == "NO-GO: 1 check(s) failed: gateway"


def test_a_holiday_names_the_next_session_and_skips_the_options():
    thanksgiving = datetime(2026, 11, 26, 9, 15, tzinfo=NEW_YORK)
    nxt = replace(SESSION, date=date(2026, 11, 27))
    facts = replace(
        GOOD,
        day=DayFacts(thanksgiving, None, nxt, "Thanksgiving"),
        feeds=GOOD.feeds[:2],
        api=Unchecked("no session today to build a what-if order from"),
    )
    c = check(facts, "session")
    assert c.level is Level.OK
    assert c.message.startswith("today Thu 2026-11-26 is not a session (Thanksgiving); next session Fri 2026-11-27")
    assert check(facts, "api").level is Level.SKIP


def test_experiment_mode_needs_no_order_permission():
    facts = replace(GOOD, config=ConfigFacts("/c", mode="experiment"), api=None)
    assert check(facts, "api").level is Level.OK


def test_after_the_entry_todays_working_orders_are_todays_trade():
    later = replace(GOOD.day, now=datetime.combine(DAY, time(10, 0), NEW_YORK))
    facts = replace(
        GOOD,
        day=later,
        leftovers=LeftoverFacts(orders=(OrderFact(9, "icbot:2026-11-24:paper:stop/abc", "PreSubmitted", DAY),)),
    )
    c = check(facts, "leftovers")
    assert c.level is Level.OK and "today's trade" in c.message


def test_accounts_are_masked():
    assert dr.mask("DU1234567") == "DU…567"
    assert "DU1234567" not in " ".join(c.message for c in dr.assess(GOOD))


def test_a_session_whose_entry_window_passed_without_run_today_is_a_missed_run_warning():
    after = SESSION.deadline_at + timedelta(minutes=40)
    missed = dr.session_check(DayFacts(after, SESSION, None, traded_today=False))
    assert missed.level is dr.Level.WARN and "missed run" in missed.message and "schedule show" in missed.fix
    assert dr.session_check(DayFacts(after, SESSION, None, traded_today=True)).level is dr.Level.OK
    assert dr.session_check(DayFacts(AT_0915, SESSION, None, traded_today=False)).level is dr.Level.OK  # not yet
