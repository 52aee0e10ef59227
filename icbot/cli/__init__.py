"""Command-line layer: thin typer commands over the library."""

from __future__ import annotations

import importlib

import typer

# One module per command group; each defines `register(app)`.
COMMAND_MODULES = (
    "icbot.cli.trade_cmd",
    "icbot.cli.ops_cmd",
    "icbot.cli.status_cmd",
    "icbot.cli.schedule_cmd",
    "icbot.cli.doctor_cmd",
    "icbot.cli.config_cmd",
    "icbot.cli.sim_cmd",
    "icbot.cli.demo_cmd",
    "icbot.cli.report_cmd",
    "icbot.cli.whatif_cmd",
)


def register_all(app: typer.Typer) -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)
