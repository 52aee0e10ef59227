"""`icbot doctor`: gather the facts (icbot.core.doctor decides), alert on a no-go when the scheduler runs it.

Read-only by design: the journal is opened read-only (a writing open would migrate it), the gateway session uses
its own client id (gateway.client_id + 4) and never places or cancels anything — the read-only probe is a what-if
order, which IB evaluates and never places. The only writes are the alerts it sends (journaled in `alerts` when the
journal is current and writable).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path

from icbot.clock import NEW_YORK, Clock
from icbot.config import Config
from icbot.core import doctor as dr
from icbot.core.agents import DOCTOR_AT
from icbot.core.doctor import (
    DOCTOR_CLIENT_OFFSET,
    AlertFacts,
    Check,
    ConfigFacts,
    DayFacts,
    DoctorFacts,
    HaltFacts,
    JournalFacts,
    SchedulerFacts,
    Unchecked,
)
from icbot.core.schedule import SessionTimes
from icbot.errors import ConfigError, IcbotError, StoreError
from icbot.notify import Notifier
from icbot.runner.sessions import table_for
from icbot.store.repo import Store

CONNECT_SECONDS = 15.0  # virtual seconds doctor keeps trying to connect (run-today tries until the deadline)
DATA_SECONDS = 8.0  # virtual seconds for quotes and greeks to arrive
SCHEDULED_FROM = timedelta(minutes=15)  # --scheduled acts from DOCTOR_AT − 15 min until the entry


@dataclass(frozen=True)
class Machine:
    """Where the scheduler and the local time are looked up (the CLI fills it from the machine)."""

    zone: tzinfo | None
    zone_name: str
    platform: str | None  # launchd | systemd | None (unsupported: not checked)
    icbot: str | None = None
    target_dir: Path | None = None
    log_dir: Path | None = None


@dataclass
class Outcome:
    facts: DoctorFacts
    checks: list[Check]
    exit_code: int
    alert_sent: bool | None = None  # --scheduled no-go alert: delivered?


# -- the window of --scheduled ---------------------------------------------------------------------------
def scheduled_window(session: SessionTimes | None, now: datetime) -> str | None:
    """None when a scheduled doctor should run now; else why it has nothing to do (it then exits 0 quietly).

    The scheduler fires doctor at 09:15 ET — and, for launchd, at the other local times 09:15 ET can be (08:15 or
    10:15 ET on a Berlin Mac in the DST mismatch weeks), and late on wake after sleep.
    """
    if session is None:
        return f"{now:%Y-%m-%d} is not a trading session: nothing to check"
    start = datetime.combine(session.date, DOCTOR_AT, tzinfo=NEW_YORK) - SCHEDULED_FROM
    if now < start:
        return f"too early: doctor runs from {start:%H:%M} ET"
    if now >= session.entry_at:
        return f"too late: the entry ({session.entry_at:%H:%M} ET) has begun; run-today decides now"
    return None


# -- gathering --------------------------------------------------------------------------------------------
def config_facts(config: Config | None, error: str | None, source: Path | None) -> ConfigFacts:
    if config is None:
        return ConfigFacts(str(source) if source else None, error=error or "cannot be loaded")
    g = config.gateway
    return ConfigFacts(
        str(config.source) if config.source else None,
        mode=config.mode,
        host=g.host,
        port=g.port,
        client_id=g.client_id + DOCTOR_CLIENT_OFFSET,
        account=g.account,
        max_vix=config.filters.max_vix,
        trading_class=config.strategy.trading_class,
        symbol=config.strategy.symbol,
    )


def day_facts(config: Config, now: datetime, machine: Machine) -> DayFacts:
    table = table_for(config)
    today = now.date()
    session = table.session_times(today, config.entry, config.exits)
    upcoming = table.next_sessions(today + timedelta(days=1), 1, config.entry, config.exits)
    nxt = upcoming[0] if upcoming else None
    reason = ""
    if session is None:
        skipped = table.skipped_weekdays(today, today)
        reason = skipped[0].name if skipped else "weekend"
    shown = session if session is not None else nxt
    local = shown.entry_at.astimezone(machine.zone) if shown is not None and machine.zone is not None else None
    if shown is not None and machine.zone is None:
        local = shown.entry_at.astimezone()
    label = machine.zone_name if machine.zone is not None else (local.tzname() or "local") if local else "local"
    return DayFacts(now, session, nxt, reason, label, local)


def journal_facts(path: Path) -> tuple[JournalFacts, Store | None]:
    """The journal's state; the store opened read-only when it is usable (the caller closes it)."""
    free = _free_bytes(path)
    if not path.exists():
        parent = _existing_parent(path)
        writable = parent is not None and os.access(parent, os.W_OK | os.X_OK)
        return JournalFacts(str(path), False, writable, free_bytes=free), None
    writable = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)
    try:
        store = Store.open(path, readonly=True)
    except StoreError as exc:
        pending = _pending_migrations(path)
        if pending:
            return JournalFacts(str(path), True, writable, pending=pending, free_bytes=free), None
        return JournalFacts(str(path), True, writable, error=str(exc), free_bytes=free), None
    return JournalFacts(str(path), True, writable, free_bytes=free), store


def _pending_migrations(path: Path) -> tuple[str, ...]:
    from icbot.store.lite import Database
    from icbot.store.schema import migrations

    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return ()
    try:
        return tuple(m.name for m in migrations.pending(Database(conn)))
    except Exception:
        return ()
    finally:
        conn.close()


def _existing_parent(path: Path) -> Path | None:
    for parent in path.parents:
        if parent.exists():
            return parent
    return None


def _free_bytes(path: Path) -> int | None:
    where = path if path.exists() else _existing_parent(path)
    if where is None:
        return None
    try:
        return shutil.disk_usage(where if where.is_dir() else where.parent).free
    except OSError:
        return None


def halt_facts(store: Store | None, journal: JournalFacts) -> HaltFacts | Unchecked:
    if store is None:
        if not journal.exists:
            return HaltFacts(False)  # no journal yet: nothing was ever halted
        return Unchecked("the journal could not be read")
    halt = store.halt_state()
    if halt is None:
        return HaltFacts(False)
    return HaltFacts(True, since=halt.at, reason=halt.reason, by=halt.by)


def alert_facts(
    config: Config | None, environ: Mapping[str, str], store: Store | None, clock: Clock
) -> tuple[AlertFacts, Notifier | None]:
    try:
        notifier = Notifier.from_settings(
            config.notify.apprise_config if config else None,
            environ,
            clock=clock,
            plugin_folder=config.db_path.parent if config else None,
        )
    except ConfigError as exc:
        return AlertFacts(error=str(exc)), None
    last_failed = None
    if store is not None:
        latest = store.alerts(limit=1)
        if latest and not latest[0].delivered:
            a = latest[0]
            last_failed = (a.at, a.title, a.error or "not delivered")
    return AlertFacts(services=notifier.services, last_failed=last_failed), notifier


def scheduler_facts(config: Config | None, machine: Machine, today: date) -> SchedulerFacts | Unchecked:
    if config is None:
        return Unchecked("no valid configuration")
    if machine.platform is None:
        return Unchecked("no scheduler support on this platform")
    if machine.zone is None:
        return Unchecked("cannot name this machine's time zone (set TZ)")
    from icbot.runner.scheduler import installed_status, today_missing

    try:
        setup, status = installed_status(
            config,
            platform=machine.platform,
            zone=machine.zone,
            zone_name=machine.zone_name,
            today=today,
            target_dir=machine.target_dir,
            log_dir=machine.log_dir,
            icbot=machine.icbot,
        )
    except IcbotError as exc:
        return Unchecked(str(exc))
    return SchedulerFacts(
        platform=status.platform,
        installed=status.installed,
        current=status.current,
        summary=status.summary(today),
        renew_due=status.renew_due(today),
        today_missing=today_missing(setup) if status.installed else None,
    )


async def gateway_facts(config: Config, clock: Clock, session: SessionTimes | None) -> dict[str, object]:
    """Connect with doctor's own client id and ask everything; never places or cancels anything."""
    from icbot.broker import probe

    gw_cfg = replace(config.gateway, client_id=config.gateway.client_id + DOCTOR_CLIENT_OFFSET)
    deadline = clock.now() + timedelta(seconds=CONNECT_SECONDS)
    gw, facts = await probe.connect(gw_cfg, clock=clock, deadline=deadline, mode=config.mode, strategy=config.strategy)
    out: dict[str, object] = {"gateway": facts}
    if gw is None:
        return out
    try:
        out["clock"] = await probe.clock_skew(gw, clock)
        feeds = await probe.feeds(gw, session.date if session is not None else None, timeout=DATA_SECONDS)
        out["feeds"] = tuple(feeds)
        if config.mode == "experiment":
            out["api"] = None
        elif session is None:
            out["api"] = Unchecked("no session today to build a what-if order from")
        else:
            out["api"] = await probe.what_if(gw, session.date)
        try:
            out["leftovers"] = await probe.leftovers(gw)
        except IcbotError as exc:
            out["leftovers"] = Unchecked(str(exc))
    except IcbotError as exc:  # the connection broke off half-way
        out.setdefault("clock", Unchecked(str(exc)))
        out.setdefault("leftovers", Unchecked(str(exc)))
        out["feeds_skipped"] = str(exc)
    finally:
        await gw.close()
    return out


# -- the whole run ----------------------------------------------------------------------------------------
def run_doctor(
    config: Config | None,
    *,
    config_error: str | None,
    config_source: Path | None,
    clock: Clock,
    environ: Mapping[str, str],
    machine: Machine,
    test_alert: bool = False,
    scheduled: bool = False,
    echo: Callable[[str], None] = print,
) -> Outcome:
    now = clock.now_ny()
    cfg = config_facts(config, config_error, config_source)
    if config is None:
        alerts, notifier = alert_facts(None, environ, None, clock)
        facts = DoctorFacts(config=cfg, alerts=alerts)
        return _finish(facts, notifier, None, clock, now, test_alert, scheduled)
    day = day_facts(config, now, machine)
    journal, store = journal_facts(config.db_path)
    try:
        halt = halt_facts(store, journal)
        if store is not None and day.session is not None:
            day = replace(day, traded_today=store.trade(day.session.date, config.mode) is not None)
        alerts, notifier = alert_facts(config, environ, store, clock)
        scheduler = scheduler_facts(config, machine, now.date())
        probed = asyncio.run(gateway_facts(config, clock, day.session))
    finally:
        if store is not None:
            store.close()
    gateway = probed["gateway"]
    assert isinstance(gateway, dr.GatewayFacts)
    facts = DoctorFacts(
        config=cfg,
        day=day,
        journal=journal,
        halt=halt,
        gateway=gateway,
        api=probed.get("api"),  # type: ignore[arg-type]
        clock=probed.get("clock"),  # type: ignore[arg-type]
        feeds=probed.get("feeds", ()),  # type: ignore[arg-type]
        feeds_skipped=str(probed.get("feeds_skipped", "")),
        leftovers=probed.get("leftovers"),  # type: ignore[arg-type]
        scheduler=scheduler,
        alerts=alerts,
    )
    writable = journal.error is None and journal.exists and journal.writable and not journal.pending
    return _finish(facts, notifier, config.db_path if writable else None, clock, now, test_alert, scheduled)


def _finish(
    facts: DoctorFacts,
    notifier: Notifier | None,
    db: Path | None,
    clock: Clock,
    now: datetime,
    test_alert: bool,
    scheduled: bool,
) -> Outcome:
    store = _writable_store(db)
    try:
        if notifier is not None and store is not None:
            notifier.store = store
        if test_alert and facts.alerts is not None and notifier is not None and facts.alerts.services:
            ok = notifier.notify(
                "info",
                f"icbot {now:%Y-%m-%d}: doctor test alert",
                f"Test alert from `icbot doctor --test-alert` on {socket.gethostname()} at {now:%H:%M:%S} ET. "
                "If you read this, icbot's alerts reach you.",
            )
            error = None if ok else _last_error(store)
            facts = replace(facts, alerts=replace(facts.alerts, test_delivered=ok, test_error=error))
        checks = dr.assess(facts)
        code = dr.exit_code(checks)
        sent: bool | None = None
        if scheduled and code != dr.EXIT_GO and notifier is not None:
            sent = notifier.notify("failure", f"icbot {now:%Y-%m-%d}: NO-GO at {now:%H:%M} ET", no_go_body(checks))
        return Outcome(facts, checks, code, sent)
    finally:
        if store is not None:
            store.close()


def _writable_store(db: Path | None) -> Store | None:
    if db is None:
        return None
    try:
        return Store.open(db)
    except IcbotError:
        return None


def _last_error(store: Store | None) -> str | None:
    if store is None:
        return None
    latest = store.alerts(limit=1)
    return latest[0].error if latest else None


def no_go_body(checks: list[Check]) -> str:
    """The urgent alert: each failed check with what to do, before the entry so the trader can still act."""
    lines = []
    for c in dr.failed(checks):
        lines.append(f"❌ {c.key}: {c.message}" + (f" → {c.fix}" if c.fix else ""))
    return "\n".join(lines) + "\nFix it before the entry; `icbot doctor` checks again."
