"""Command-line layer: thin typer commands over the library."""

from __future__ import annotations

import importlib

import typer

# One module per command group; each defines `register(app)`. A module listed here that does not exist yet
# is simply skipped, so command groups can land independently.
COMMAND_MODULES = (
    "icbot.cli.config_cmd",
    "icbot.cli.schedule_cmd",
    "icbot.cli.sim_cmd",
    "icbot.cli.trade_cmd",
    "icbot.cli.demo_cmd",
)


def register_all(app: typer.Typer) -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(app)
