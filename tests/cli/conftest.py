"""The CLI tests run icbot in subprocesses with their journal in the test's folder (ICBOT_DB or the config's
storage.db): that folder starts with the session table's cache, so no such process loads the exchange calendar
just to build it (tests/conftest.py, `calendar_cache`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _calendar_in_the_test_folder(tmp_path: Path, seed_calendar: Callable[[Path], Path]) -> None:
    seed_calendar(tmp_path)
