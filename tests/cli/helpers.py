"""The real `icbot` console script in a subprocess, as a user's shell starts it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ICBOT = Path(sys.executable).with_name("icbot")


def run_icbot(args: Sequence[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`icbot ARGS` in `cwd`: none of the tester's ICBOT_ variables or TZ, 120 columns, the journal — and so the
    session table's cache (tests/cli/conftest.py) — in `cwd`; `env` on top."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("ICBOT_") and k != "TZ"}
    base |= {"COLUMNS": "120", "ICBOT_DB": str(cwd / "icbot.db")}
    return subprocess.run(
        [str(ICBOT), *args], cwd=cwd, env=base | env, capture_output=True, text=True, timeout=60, check=False
    )
