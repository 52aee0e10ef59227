"""Fixtures of the runner tests: the in-process run-today harness (tests/runner/harness.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest

from icbot.sim.fixture import SimGateway
from icbot.store.repo import Store
from tests.runner.harness import Harness, make_harness
from tests.webhook import Endpoint


@pytest.fixture
def harness(tmp_path: Path, sim_gateway_factory: Callable[..., SimGateway]) -> Iterator[Callable[..., Harness]]:
    """make(start=, speed=, faults=, sim_config=, mode=, **config): a Harness on its own simulator."""
    stores: list[Store] = []
    sink = Endpoint()
    yield partial(make_harness, tmp_path, sim_gateway_factory, stores, sink)
    for store in stores:
        store.close()
    sink.close()
