"""Every simulator test also checks that neither client logged a decoding problem for what the simulator sent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sim.helpers import LogCapture


@pytest.fixture(autouse=True)
def client_log() -> Iterator[LogCapture]:
    with LogCapture("ib_async", "ibapi") as cap:
        yield cap
    problems = cap.decode_problems()
    assert not problems, f"client decoding problems: {problems[:3]}"
