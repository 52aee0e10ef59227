"""What every trading command shares: configuration, clock, calendar day, journal and alerts.

A `RunContext` is built once per process by the CLI and handed to the runner functions, so the runner never
reads the environment, the wall clock or a file path on its own — which is what lets tests and the demo run a
whole day on a virtual clock against the simulator.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from icbot.clock import NEW_YORK, Clock
from icbot.config import Config
from icbot.notify import Notifier
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
    phases_seen: list[str] = field(default_factory=list)
    # Crash-point testing (SPEC §6): ICBOT_CRASH_AT=<phase>[:<status>] makes the process die abruptly right after
    # journaling that event, exactly as a power cut or `kill -9` would. Only tests set it.
    crash_at: str | None = None
    finished: bool = False

    @property
    def mode(self) -> str:
        return self.config.mode

    @property
    def is_experiment(self) -> bool:
        return self.config.mode == "experiment"

    def now(self) -> datetime:
        return self.clock.now()

    def journal(self, phase: str, status: str, message: str, **data: Any) -> None:
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
        if phase not in self.phases_seen:
            self.phases_seen.append(phase)
        stamp = at.astimezone(NEW_YORK).strftime("%H:%M:%S")
        self.echo(f"{stamp} ET  {phase:<10} {STATUS_MARK.get(status, status):<4} {message}")
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

    def save_trade(self, **fields: Any) -> dict[str, Any]:
        return self.store.save_trade(self.trade_date, self.mode, self.clock.now(), **fields)

    def trade(self) -> dict[str, Any] | None:
        return self.store.trade(self.trade_date, self.mode)
