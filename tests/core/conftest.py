from __future__ import annotations

import pytest

from icbot.core.calendar import load_calendar


@pytest.fixture(scope="module")
def cal():
    """The real XNYS calendar (built once per process; load_calendar caches it)."""
    return load_calendar()
