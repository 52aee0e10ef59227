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

import logging
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from icbot.runner.sessions import CACHE_NAME, session_table
from icbot.sim.fixture import SimGateway, start_sim

SimFactory = Callable[..., SimGateway]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Longest first, so the xdist workers (`make test`: `-n 4 --dist worksteal`) finish together: the whole
    simulated sessions (`slow`), then the other end-to-end tests, then the quick ones that fill the gaps at the end.
    The order within each tier is the files' own, the same on every worker."""

    def tier(item: pytest.Item) -> int:
        if item.get_closest_marker("slow") is not None:
            return 0
        return 1 if item.get_closest_marker("e2e") is not None else 2

    items.sort(key=tier)  # stable


@pytest.fixture(scope="session")
def calendar_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session table's cache file (icbot/runner/sessions.py), built once per test process.

    A journal folder that icbot subprocesses use starts with a copy (`seed_calendar`), as a journal folder does
    after its first command: otherwise each test's first subprocess would load the exchange calendar to build it
    (half a second of CPU each). Building it is tested in tests/runner/test_status_runner.py."""
    folder = tmp_path_factory.mktemp("calendar")
    session_table(folder)
    return folder / CACHE_NAME


@pytest.fixture
def seed_calendar(calendar_cache: Path) -> Callable[[Path], Path]:
    """seed_calendar(journal_folder): the folder, created if need be, with the session table's cache in it."""

    def seed(folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(calendar_cache, folder / CACHE_NAME)
        return folder

    return seed


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


class _SimErrors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def simulator_logged_no_error(request: pytest.FixtureRequest) -> Iterator[None]:
    """A simulator that fails a request or a tick logs it and carries on; no test may pass over such a bug.

    Tests that feed the simulator bad requests on purpose mark themselves `sim_errors_expected`.
    """
    handler = _SimErrors()
    logger = logging.getLogger("icbot.sim")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
    if request.node.get_closest_marker("sim_errors_expected") is None:
        assert not handler.records, f"simulator errors: {[r.getMessage() for r in handler.records][:3]}"
