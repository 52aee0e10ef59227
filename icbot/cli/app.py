"""The typer application: parse, call one library function, render, exit with SPEC §3's code.

Each command group lives in its own module under icbot/cli and registers itself here. `main()` is the
console-script entry point; it turns icbot's own errors into one clear line and the documented exit code,
so launchd and scripts can tell "no trade today" (3) from "risk open" (4) from "bad config" (2).
"""

from __future__ import annotations

import os
import sys

import typer
from rich.console import Console

from icbot import __version__
from icbot.clock import ClockSpecError
from icbot.errors import EXIT_UNEXPECTED, EXIT_USAGE, IcbotError

app = typer.Typer(
    name="icbot",
    help="One SPX 0DTE iron condor a day through Interactive Brokers, unattended.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"icbot {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """One SPX 0DTE iron condor a day through Interactive Brokers, unattended."""


def _register() -> None:
    """Import the command modules; each adds its commands to `app`."""
    from icbot.cli import register_all

    register_all(app)


def main() -> None:
    """Console-script entry point with SPEC §3 exit codes."""
    _register()
    try:
        # Without standalone mode click *returns* the code of a `typer.Exit(code)` instead of exiting with it.
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except IcbotError as exc:
        err_console.print(f"icbot: {exc}", markup=False)
        sys.exit(exc.exit_code)
    except ClockSpecError as exc:
        err_console.print(f"icbot: {exc}", markup=False)
        sys.exit(EXIT_USAGE)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("icbot: aborted", markup=False)
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        err_console.print("icbot: interrupted", markup=False)
        sys.exit(130)
    except Exception as exc:  # the last line of defence: one line, code 1, traceback only on request
        import click
        from typer._click.exceptions import ClickException as VendoredClickException

        # typer 0.29 vendors click as typer._click: its usage errors are not click.ClickException instances.
        if isinstance(exc, click.ClickException | VendoredClickException):
            exc.show()
            sys.exit(EXIT_USAGE if exc.exit_code == 2 else exc.exit_code)
        if isinstance(exc, click.exceptions.Exit):
            sys.exit(exc.exit_code)
        err_console.print(f"icbot: unexpected error: {type(exc).__name__}: {exc}", markup=False)
        if "--debug" in sys.argv or os.environ.get("ICBOT_DEBUG"):
            raise
        sys.exit(EXIT_UNEXPECTED)
