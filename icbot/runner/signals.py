"""Stopped from outside: SIGTERM (what `launchctl bootout`, `systemctl stop` and a shutdown send) and SIGINT.

A trading command must not simply vanish: its `runs` row would stay open, and a working entry would be left to
whoever runs next. So the signal cancels the command's main task; the command catches the cancellation at its
top, finishes its own work safely (run-today cancels a working entry that has not filled — nobody would manage
it after this process, and past the deadline it is an order without an owner), journals what happened and
returns an exit code like any other ending. A second signal while that cleanup runs is ignored.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Stop:
    """Which signal stopped the run (None while none did)."""

    def __init__(self) -> None:
        self.signal: str | None = None


async def stoppable(run: Callable[[Stop], Awaitable[T]]) -> T:
    """Run `run(stop)` as the loop's main task; SIGTERM/SIGINT cancel it once and name the signal in `stop`."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    stop = Stop()

    def on_signal(sig: signal.Signals) -> None:
        if stop.signal is None:
            stop.signal = sig.name
            task.cancel()

    installed = []
    for sig in SIGNALS:
        try:
            loop.add_signal_handler(sig, on_signal, sig)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread (tests) or no such signal
            pass
    try:
        return await run(stop)
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
