"""Builds a RunContext for a trading command from the environment: the one place that wires real parts."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from icbot.clock import Clock
from icbot.config import Config, load_config
from icbot.core.schedule import SessionTimes
from icbot.notify import Notifier
from icbot.runner.context import Echo, RunContext
from icbot.runner.sessions import day_session
from icbot.store.repo import Store


def load(config_path: Path | None, environ: Mapping[str, str] | None = None) -> tuple[Config, Clock]:
    env = os.environ if environ is None else environ
    return load_config(config_path, env), Clock.from_env(env)


def today_session(config: Config, clock: Clock) -> tuple[SessionTimes | None, object]:
    today = clock.now_ny().date()
    return day_session(config, today), today


# The commands that watch or close what is already at the broker: check places missing exits, kill closes the
# condor. An alert URL apprise cannot load must not stop them; it becomes each alert's delivery error in the journal,
# which `status` shows. The other commands refuse to start with it (exit 2), run-today before it opens a trade
# nobody would hear about. Loading at the first alert also spares a quiet check apprise's plugin scan.
LOAD_ALERTS_AT_FIRST_USE = frozenset({"check", "kill"})


@contextmanager
def open_context(
    command: str, config: Config, clock: Clock, *, echo: Echo, environ: Mapping[str, str] | None = None
) -> Iterator[RunContext]:
    """Open the journal and the notifier, start a `runs` row, and close both whatever happens."""
    env = os.environ if environ is None else environ
    store = Store.open(config.db_path)
    try:
        notifier = Notifier.from_settings(
            config.notify.apprise_config,
            env,
            store=store,
            clock=clock,
            load_now=command not in LOAD_ALERTS_AT_FIRST_USE,
            plugin_folder=config.db_path.parent,
        )
        ctx = RunContext(
            config,
            clock,
            store,
            notifier,
            clock.now_ny().date(),
            command,
            echo=echo,
            crash_at=env.get("ICBOT_CRASH_AT"),
            test_alert_at=env.get("ICBOT_TEST_ALERT_AT"),
            installation=store.installation_id(),
        )
        ctx.run_id = store.start_run(
            command=command, mode=config.mode, trade_date=ctx.trade_date, at=clock.now(), argv=list(sys.argv)
        )
        try:
            yield ctx
        except BaseException as exc:
            if not ctx.finished:  # every orderly ending finishes the run first; this is a crash
                ctx.finish(int(getattr(exc, "exit_code", 1) or 1), f"{type(exc).__name__}: {exc}")
                ctx.notifier.failure(f"icbot {ctx.trade_date}: {command} crashed", f"{type(exc).__name__}: {exc}")
            raise
    finally:
        store.close()
