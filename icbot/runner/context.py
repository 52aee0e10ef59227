"""What every trading command shares: configuration, clock, calendar day, journal and alerts.

A `RunContext` is built once per process by the CLI and handed to the runner functions, so the runner never
reads the environment, the wall clock or a file path on its own — which is what lets tests and the demo run a
whole day on a virtual clock against the simulator.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from icbot.clock import NEW_YORK, Clock
from icbot.config import Config
from icbot.core import refs
from icbot.core.journal import AlertLevel, EventStatus, Phase, Role, Trade
from icbot.notify import CALL_TIMEOUT_S, GRACE_S, Notifier
from icbot.store.repo import Store

Echo = Callable[[str], None]

STATUS_MARK = {"start": "…", "ok": "ok", "fail": "FAIL", "skip": "skip", "info": "·", "warn": "WARN"}


@dataclass
class RunContext:
    config: Config
    clock: Clock
    store: Store
    notifier: Notifier
    trade_date: date
    command: str
    echo: Echo = print
    run_id: int | None = None
    # Crash-point testing (docs/operations.md, restart and repair): ICBOT_CRASH_AT=<phase>[:<status>] makes the
    # process die abruptly right after journaling that event, exactly as a power cut or `kill -9` would. Only
    # tests set it.
    crash_at: str | None = None
    # Alert-path testing: ICBOT_TEST_ALERT_AT=<phase>[:<status>] sends a warning alert right after journaling that
    # event (e.g. `order:start`, just before the entry is sent), to prove a dead endpoint delays no order.
    test_alert_at: str | None = None
    finished: bool = False
    # This journal's installation id (icbot/store/schema.py m003): carried by every orderRef and OCA group.
    installation: str = ""
    # Alerts sent from async code are delivered beside the trading work, never in its way: `alert` returns at
    # once and `flush_alerts` waits for them (bounded) when the run ends. Shared by every `for_date` copy.
    outbox: list[asyncio.Task[bool]] = field(default_factory=list)

    @property
    def mode(self) -> str:
        return self.config.mode

    @property
    def is_experiment(self) -> bool:
        return self.config.mode == "experiment"

    def now(self) -> datetime:
        return self.clock.now()

    def journal(self, phase: Phase | str, status: EventStatus | str, message: str, **data: Any) -> None:
        """Append one event to the journal and show it: the user's phase list is built from these rows."""
        at = self.clock.now()
        self.store.event(
            self.run_id,
            trade_date=self.trade_date,
            mode=self.mode,
            phase=phase,
            status=status,
            message=message,
            at=at,
            data=data or None,
        )
        stamp = at.astimezone(NEW_YORK).strftime("%H:%M:%S")
        self.echo(f"{stamp} ET  {phase:<10} {STATUS_MARK.get(status, status):<4} {message}")
        if self.test_alert_at and self.test_alert_at in (phase, f"{phase}:{status}"):
            self.alert(AlertLevel.WARNING, "test alert", f"ICBOT_TEST_ALERT_AT={self.test_alert_at}")
        if self.crash_at and self.crash_at in (phase, f"{phase}:{status}"):
            self.echo(f"ICBOT_CRASH_AT={self.crash_at}: dying here on purpose")
            os._exit(137)

    def finish(self, exit_code: int, summary: str = "") -> None:
        """Close this process's `runs` row with its exit code (once)."""
        if not self.finished and self.run_id is not None:
            self.store.finish_run(self.run_id, exit_code=exit_code, at=self.clock.now(), summary=summary)
        self.finished = True

    def for_date(self, trade_date: date) -> RunContext:
        """This context journaling under `trade_date` (check may reconcile an earlier day's trade)."""
        return self if trade_date == self.trade_date else replace(self, trade_date=trade_date)

    def save_trade(self, **fields: Any) -> Trade:
        return self.store.save_trade(self.trade_date, self.mode, self.clock.now(), **fields)

    def trade(self) -> Trade | None:
        return self.store.trade(self.trade_date, self.mode)

    def ref(self, role: Role, attempt: int = 1) -> str:
        """The orderRef of this installation's order of `role` on the context's trade date."""
        return refs.order_ref(self.trade_date, self.mode, role, attempt, installation=self.installation)

    def alert(self, level: AlertLevel, title: str, body: str, *, repeat_after: timedelta | None = None) -> None:
        """Send `icbot <date>: title` without waiting: from a coroutine the delivery runs as a task beside the
        trading work (a dead endpoint cannot delay an order); outside an event loop it is sent at once.

        With `repeat_after`, the same alert (title and body) sent less than that long ago is journaled as an
        event but not sent again.
        """
        full = f"icbot {self.trade_date}: {title}"
        if repeat_after is not None and self._sent_recently(full, body, repeat_after):
            self.journal(Phase.RECONCILE, EventStatus.INFO, f"alert not repeated (sent within {repeat_after}): {title}")
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self.notifier.notify(level, full, body)
            return
        self.outbox.append(asyncio.ensure_future(self.notifier.anotify(level, full, body)))

    def _sent_recently(self, title: str, body: str, within: timedelta) -> bool:
        since = self.clock.now() - within
        return any(a.title == title and a.body == body and a.at >= since for a in self.store.alerts(limit=50))

    async def flush_alerts(self) -> None:
        """Wait for the alerts still on their way, at most one delivery deadline in all (each is journaled by
        the notifier, delivered or not, when it ends or times out)."""
        pending = [t for t in self.outbox if not t.done()]
        self.outbox.clear()
        if pending:
            await asyncio.wait(pending, timeout=CALL_TIMEOUT_S + GRACE_S + 1.0)
