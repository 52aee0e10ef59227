"""The core stays pure: no I/O, broker, UI or clock imports (docs/strategy.md)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "icbot" / "core"
FORBIDDEN = {
    "asyncio",
    "ib_async",
    "ibapi",
    "typer",
    "rich",
    "sqlite3",
    "sqlite_utils",
    "apprise",
    "tenacity",
    "socket",
    "subprocess",
    "time",
    "icbot.broker",
    "icbot.store",
    "icbot.notify",
    "icbot.cli",
    "icbot.runner",
    "icbot.sim",
    "icbot.clock",
}
CLOCK_CALLS = {"now", "utcnow", "today", "time", "monotonic"}


@pytest.mark.parametrize("module", sorted(CORE.rglob("*.py")), ids=lambda p: str(p.relative_to(CORE)))
def test_core_module_imports_nothing_impure_and_never_reads_the_clock(module):
    tree = ast.parse(module.read_text())
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            assert not any(name == f or name.startswith(f + ".") for f in FORBIDDEN), f"{module.name} imports {name}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in CLOCK_CALLS:
            raise AssertionError(f"{module.name}:{node.lineno} calls .{node.func.attr}()")


def test_importing_the_core_loads_no_broker_or_ui_package():
    code = (
        "import sys, icbot.core.strikes, icbot.core.pricing, icbot.core.exits, icbot.core.sizing, "
        "icbot.core.schedule, icbot.core.calendar; "
        "bad = [m for m in ('ib_async', 'typer', 'rich', 'sqlite_utils', 'apprise', 'tenacity') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
