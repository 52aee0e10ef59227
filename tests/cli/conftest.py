"""The CLI tests run icbot in subprocesses with their journal in the test's folder (ICBOT_DB or the config's
storage.db): that folder starts with the session table's cache and the alert sink's apprise plugin, so no such
process loads the exchange calendar or scans apprise's plugins just to build them (tests/conftest.py,
`journal_folder_caches`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _caches_in_the_test_folder(tmp_path: Path, seed_journal_folder: Callable[[Path], Path]) -> None:
    seed_journal_folder(tmp_path)
