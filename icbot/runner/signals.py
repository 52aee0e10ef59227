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


RECANCEL_S = 0.5  # real seconds between repeated cancellations until the run says it has stopped


class Stop:
    """Which signal stopped the run (None while none did), and whether the run has taken the stop in hand."""

    def __init__(self) -> None:
        self.signal: str | None = None
        self.taken = False

    def take(self) -> None:
        """The run is handling the stop: no more cancellations, and the task's pending ones are cleared so the
        cleanup can await (Python 3.11's wait_for may swallow one cancellation; `stoppable` repeats it)."""
        self.taken = True
        task = asyncio.current_task()
        if task is not None:
            while task.cancelling():
                task.uncancel()


async def stoppable(run: Callable[[Stop], Awaitable[T]]) -> T:
    """Run `run(stop)` as the loop's main task; SIGTERM/SIGINT cancel it once and name the signal in `stop`."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    stop = Stop()

    def on_signal(sig: signal.Signals) -> None:
        if stop.signal is None:
            stop.signal = sig.name
            cancel_until_taken()

    def cancel_until_taken() -> None:
        # A cancellation can be lost in a race inside asyncio.wait_for (Python 3.11) when the awaited event fires
        # in the same instant — with quotes streaming, it often does. So it is repeated until the run takes it.
        if not stop.taken and not task.done():
            task.cancel()
            loop.call_later(RECANCEL_S, cancel_until_taken)

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
