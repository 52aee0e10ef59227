"""`icbot status`: the day's facts — journal first, broker second — turned into a view (icbot.core.day_view).

Journal first: the journal is read with the standard library's sqlite3 (icbot.store.reader) and the calendar
from a small cache (icbot.runner.sessions), so the journal's view costs neither pandas nor ib_async. Broker
second: only then, and only for today, is the gateway asked — as its own read-only client
(gateway.client_id + STATUS_CLIENT_OFFSET, ib_async's ``readonly``), within a short real-time timeout, for the
day's icbot orders of every client id, the account's positions and, while a condor is open, the mids of its
four legs. Status never places, modifies or cancels an order and never writes the journal.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING

from icbot.clock import NEW_YORK, Clock
from icbot.config import Config, mask_account
from icbot.core import refs
from icbot.core.day_view import BrokerDay, JournalDay, RunState, StatusView, build_view
from icbot.core.facts import options_held
from icbot.core.journal import ComboLeg, EventStatus, Phase, Role, Run
from icbot.core.schedule import OutOfCalendarRange, SessionTimes
from icbot.errors import IcbotError
from icbot.store.reader import JournalReader, NoJournal

if TYPE_CHECKING:
    from icbot.broker.gateway import Gateway

STATUS_CLIENT_OFFSET = 2  # status's client id: gateway.client_id + 2 (run-today +0, check +1, kill +3)
BROKER_TIMEOUT = 3.0  # real seconds the gateway gets to answer before the journal's view stands alone
QUOTE_SETTLE = 2.0  # virtual seconds the legs' quotes get to arrive (inside BROKER_TIMEOUT)
ALERTS_SHOWN = 3


@dataclass(frozen=True, slots=True)
class DayFacts:
    """Everything but the broker: what the journal and the calendar say about the day, read once."""

    day: date
    now: datetime
    journal: JournalDay
    session: SessionTimes | None
    holiday: str | None
    next_session: SessionTimes | None
    notes: tuple[str, ...]
    account: str  # raw, from the day's connect event or the configuration ("" when unknown)


def status_client(config: Config) -> Config:
    """The configuration with status's own client id, so it never collides with run-today, check or kill."""
    return replace(config, gateway=replace(config.gateway, client_id=config.gateway.client_id + STATUS_CLIENT_OFFSET))


def read_day(config: Config, clock: Clock, day: date | None = None, *, cache: bool = True) -> DayFacts:
    """The journal's and the calendar's side of the view (no broker). `cache`: keep the session table in a file
    next to the journal (icbot.runner.sessions); the demo, which has the calendar loaded anyway, does not."""
    from icbot.runner.sessions import session_table

    now = clock.now()
    today = now.astimezone(NEW_YORK).date()
    day = today if day is None else day
    notes: list[str] = []
    journal = JournalDay()
    try:
        with JournalReader.open(config.db_path) as reader:
            journal = _journal_day(reader, day, config.mode)
    except NoJournal as exc:
        notes.append(str(exc))
    cache_dir = config.db_path.parent if cache and config.db_path.parent.is_dir() else None
    table = session_table(cache_dir)
    session = holiday = next_session = None
    try:
        session = table.session_times(day, config.entry, config.exits)
        holiday = table.holiday(day) if session is None else None
    except OutOfCalendarRange as exc:
        notes.append(str(exc))
    try:
        next_session = table.next_entry(now, config.entry, config.exits)
    except OutOfCalendarRange as exc:
        notes.append(str(exc))
    return DayFacts(
        day=day,
        now=now,
        journal=journal,
        session=session,
        holiday=holiday,
        next_session=next_session,
        notes=tuple(notes),
        account=_journaled_account(journal) or config.gateway.account,
    )


def _journal_day(reader: JournalReader, day: date, mode: str) -> JournalDay:
    events = tuple(reader.events(day, mode))
    run_ids = [e.run_id for e in events if e.run_id is not None]
    return JournalDay(
        trade=reader.trade(day, mode),
        events=events,
        orders=tuple(reader.orders(day, mode)),
        fills=tuple(reader.fills(day, mode)),
        alerts=tuple(reader.alerts(limit=ALERTS_SHOWN)),
        halt=reader.halt_state(),
        last_check=reader.last_run("check", mode),
        runs={r.id: run_state(r) for r in reader.runs(run_ids)},
    )


def run_state(run: Run, host: str | None = None) -> RunState:
    """Finished (its journal row says so), gone (on this machine, its process is no longer there: it crashed), or
    running (alive here, or on another machine where it cannot be told)."""
    if run.finished_at is not None:
        return "finished"
    if run.host != (socket.gethostname() if host is None else host):
        return "running"
    try:
        os.kill(run.pid, 0)
    except ProcessLookupError:
        return "gone"
    except PermissionError:
        return "running"
    return "running"


def _journaled_account(journal: JournalDay) -> str:
    for event in reversed(journal.events):
        if event.phase == Phase.CONNECT and event.status is EventStatus.OK and event.data:
            account = event.data.get("account")
            if account:
                return str(account)
    return ""


def entry_legs(journal: JournalDay) -> tuple[ComboLeg, ...]:
    entry = next((o for o in journal.orders if o.role is Role.ENTRY), None)
    return entry.legs if entry is not None else ()


def view(
    config: Config,
    facts: DayFacts,
    *,
    broker: BrokerDay | None = None,
    broker_state: str = "offline",
    local_zone: tzinfo | None = None,
) -> StatusView:
    """The view of `facts` (and the broker's answer, if any)."""
    raw = broker.account if broker is not None and broker.account else facts.account
    masked = mask_account(raw)
    product = config.strategy.product
    built = build_view(
        day=facts.day,
        now=facts.now,
        mode=config.mode,
        journal=facts.journal,
        session=facts.session,
        holiday=facts.holiday,
        next_session=facts.next_session,
        local_zone=local_zone,
        broker=broker,
        broker_state=broker_state,
        account=masked,
        hide={raw: masked} if raw else {},
        underlying=product.symbol,
        multiplier=product.multiplier,
    )
    return replace(built, notes=facts.notes + built.notes)


# -- the broker -------------------------------------------------------------------------------------------------
async def read_broker(config: Config, clock: Clock, facts: DayFacts, timeout: float = BROKER_TIMEOUT) -> BrokerDay:
    """One read-only look at the gateway: the day's icbot orders, the positions, and the open condor's leg mids.

    One connection attempt (no retries: a human is waiting); raises an IcbotError when the gateway is not there.
    """
    import asyncio

    from icbot.broker.gateway import Gateway

    gw = await Gateway.connect(
        status_client(config).gateway,
        clock=clock,
        deadline=clock.now(),
        mode=config.mode,
        timeout=timeout,
        strategy=config.strategy,
        readonly=True,
    )
    try:
        orders, positions = await asyncio.gather(
            gw.find_by_ref(refs.day_prefix(facts.day, config.mode)), gw.positions()
        )
        legs = entry_legs(facts.journal)
        held = set(options_held(positions))  # gw.positions() leaves out what is flat
        mids: dict[int, float | None] = {}
        problem = None
        if legs and held & {leg.con_id for leg in legs}:
            try:
                mids = await _leg_mids(gw, facts.day, legs)
            except IcbotError as exc:
                problem = str(exc)
            if not problem and any(m is None for m in mids.values()):
                problem = "no bid/ask for every leg yet"
        return BrokerDay(gw.account, tuple(orders), tuple(positions), mids, problem)
    finally:
        await gw.close()


async def _leg_mids(gw: Gateway, day: date, legs: tuple[ComboLeg, ...]) -> dict[int, float | None]:
    """The four legs' mids from a short stream (at most five lines, closed again at once)."""
    import asyncio

    # Qualified one by one first: a batch of four or more would load the whole expiry's contract list.
    await asyncio.gather(*(gw.qualify_option(day, leg.right, leg.strike) for leg in legs))
    try:
        await gw.stream_chain(day, sorted({leg.strike for leg in legs}), rights="otm", settle=QUOTE_SETTLE)
        quotes = gw.snapshot().quotes
    finally:
        gw.stop_chain()
    out: dict[int, float | None] = {}
    for leg in legs:
        quote = quotes.get((leg.right, float(leg.strike)))
        out[leg.con_id] = quote.mid if quote is not None else None
    return out


def broker_view(config: Config, clock: Clock, facts: DayFacts, timeout: float) -> tuple[BrokerDay | None, str]:
    """(the broker's answer, "ok") or (None, why not) — within `timeout` real seconds, whatever happens."""
    import asyncio  # only now: the journal's view is printed without it

    async def bounded() -> BrokerDay:
        return await asyncio.wait_for(read_broker(config, clock, facts, timeout), timeout)

    try:
        return asyncio.run(bounded()), "ok"
    except TimeoutError:
        return None, f"no answer from {config.gateway.host}:{config.gateway.port} within {timeout:g} s"
    except IcbotError as exc:
        return None, str(exc)
    except Exception as exc:  # a status view must stand even when the broker side breaks
        return None, f"{type(exc).__name__}: {exc}"


def views(
    config: Config,
    clock: Clock,
    *,
    day: date | None = None,
    offline: bool = False,
    timeout: float = BROKER_TIMEOUT,
    local_zone: tzinfo | None = None,
) -> Iterator[StatusView]:
    """The journal's view at once, then (unless offline) the view with the broker's answer added."""
    facts = read_day(config, clock, day)
    if offline:
        yield view(config, facts, broker_state="offline", local_zone=local_zone)
        return
    if facts.day != facts.now.astimezone(NEW_YORK).date():
        why = f"not asked: {facts.day} is not today (the gateway reports only today's orders)"
        yield view(config, facts, broker_state=why, local_zone=local_zone)
        return
    where = f"{config.gateway.host}:{config.gateway.port}"
    yield view(config, facts, broker_state=f"asking {where} …", local_zone=local_zone)
    broker, state = broker_view(config, clock, facts, timeout)
    yield view(config, facts, broker=broker, broker_state=state, local_zone=local_zone)
