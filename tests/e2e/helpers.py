"""Helpers the end-to-end tests share (fixtures live in conftest.py)."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(predicate: Callable[[], bool], timeout: float = 60.0, what: str = "the other process") -> None:
    """Wait for another process's effect at the simulator (bounded, real time: a subprocess, not the clock)."""
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
