"""Shared fixtures. The simulated IB Gateway runs in-process, in its own thread, on an ephemeral port.

def test_something(sim_gateway):
    ib = IB(); await ib.connectAsync(sim_gateway.host, sim_gateway.port, clientId=1)
    sim_gateway.sim.fault("reject-next=Insufficient margin")      # inject a fault
    sim_gateway.sim.orders(), .executions(), .positions()         # inspect (thread-safe copies)
    subprocess.run([...], env={**os.environ, **sim_gateway.env()})  # a CLI sharing the virtual clock

def test_custom(sim_gateway_factory):
    gw = sim_gateway_factory(start="2026-11-24T09:31:55", speed=1, faults=["no-greeks=30"], seed=3)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from icbot.sim.fixture import SimGateway, start_sim

SimFactory = Callable[..., SimGateway]


@pytest.fixture
def sim_gateway_factory() -> Iterator[SimFactory]:
    """Start simulators with custom parameters (see icbot.sim.fixture.start_sim); all stop after the test."""
    started: list[SimGateway] = []

    def make(**params: Any) -> SimGateway:
        gw = start_sim(**params)
        started.append(gw)
        return gw

    yield make
    for gw in started:
        gw.stop()


@pytest.fixture
def sim_gateway(sim_gateway_factory: SimFactory) -> SimGateway:
    """A simulator at 2026-11-24 09:31 New York, speed 60, seed 7, account DU1234567."""
    return sim_gateway_factory()
