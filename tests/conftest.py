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

import apprise
import pytest

from icbot import alert_plugins
from icbot.runner.sessions import CACHE_NAME, session_table
from icbot.sim.fixture import SimGateway, start_sim

SimFactory = Callable[..., SimGateway]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Quick tests first, then the whole simulated sessions (`slow`), then the other end-to-end tests.

    The suite is bound by its worker slots (`make test`: `-n 5 --dist worksteal` on 2 cores), not by CPU: the
    end-to-end tests mostly wait on their virtual clock. worksteal hands each worker one contiguous block of this
    list and later moves the second half of the longest queue to a worker that ran dry. So every block but the last
    holds quick tests only, the last holds the rest of them and then the waiting ones: the start-up burst of five
    workers importing and collecting is over before the first simulated day, and as the other workers run dry they
    take halves of the last block's queue, so the waiting tests spread over all five for the rest of the run while
    the quick ones still keep the cores busy. (Simulated days started amid that burst had their run-today wake up
    to 0.6 real seconds late at 09:32.) The order within each tier is the files' own, the same on every worker."""

    def tier(item: pytest.Item) -> int:
        if item.get_closest_marker("slow") is not None:
            return 1
        return 2 if item.get_closest_marker("e2e") is not None else 0

    items.sort(key=tier)  # stable


@pytest.fixture(scope="session")
def journal_folder_caches(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The two cache files a journal folder holds after its first command, built once per test process: the
    session table (icbot/runner/sessions.py) and the apprise plugin of the tests' alert sink, `json://`
    (icbot/alert_plugins.py).

    A journal folder that icbot subprocesses use starts with copies (`seed_journal_folder`): otherwise each test's
    first subprocess would load the exchange calendar to build the table (half a second of CPU) and import all of
    apprise's plugins to find one (0.2 s). Building both is tested: tests/runner/test_status_runner.py,
    tests/test_alert_plugins.py."""
    folder = tmp_path_factory.mktemp("journal-caches")
    session_table(folder)
    alert_plugins.instantiate("json://127.0.0.1:9/", asset=apprise.AppriseAsset(), tag="icbot", folder=folder)
    return [folder / CACHE_NAME, folder / alert_plugins.CACHE_NAME]


@pytest.fixture
def seed_journal_folder(journal_folder_caches: list[Path]) -> Callable[[Path], Path]:
    """seed_journal_folder(folder): the folder, created if need be, with the journal folder's caches in it."""

    def seed(folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for cache in journal_folder_caches:
            shutil.copy(cache, folder / cache.name)
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
