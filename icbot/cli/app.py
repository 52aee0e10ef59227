"""The typer application: parse, call one library function, render, exit with the documented code.

Each command group lives in its own module under icbot/cli and registers itself here. `main()` is the
console-script entry point; it turns icbot's own errors into one clear line and the documented exit code,
so launchd and scripts can tell "no trade today" (3) from "risk open" (4) from "bad config" (2).
"""

from __future__ import annotations

import gc
import os
import re
import sys

import typer
from rich.console import Console

from icbot import __version__, deferred_numpy, startup
from icbot.cli.plain_params import PlainGroup
from icbot.clock import ClockSpecError
from icbot.errors import EXIT_UNEXPECTED, EXIT_USAGE, IcbotError

app = typer.Typer(
    name="icbot",
    help="One SPX 0DTE iron condor a day through Interactive Brokers, unattended.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain click help, not typer's rich panels: typer 0.29's rich help prints every flag (--json, --verbose,
    # even --help) as "--json <bool>", as if it took a value; the plain formatter shows a flag as a flag.
    # Each sub-Typer (icbot.cli.config_cmd) sets the same.
    rich_markup_mode=None,
    cls=PlainGroup,  # --help and --version without pydantic (0.1 s per process; icbot/cli/plain_params.py)
)

err_console = Console(stderr=True, highlight=False, soft_wrap=True)
_BOOL_WORD = re.compile(r"\((true|false|yes|no|on|off|1|0)\)", re.IGNORECASE)


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


def _usage_line(exc: Exception) -> str:
    """A usage error as one line, like every other exit-2 message, with the help to read."""
    message = (exc.format_message() if hasattr(exc, "format_message") else str(exc)).rstrip(".")
    if "unexpected extra argument" in message and _BOOL_WORD.search(message):  # `--json true`
        message += ": a flag such as --json or --verbose takes no value"
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", "") or "icbot"
    return f"{message}; see '{path} --help'"


def main() -> None:
    """Console-script entry point with the exit codes of docs/operations.md ("Exit codes")."""
    startup.starting()  # until the first step of real work (icbot/startup.py)
    deferred_numpy.defer()  # imported under ib_async, never used by icbot (icbot/deferred_numpy.py)
    try:
        _main()
    finally:
        # Every way out of icbot passes here. The interpreter's last act is a full collection that walks every
        # object the process still holds — the modules and classes of typer, rich, apprise, ib_async and icbot:
        # 0.06 s of CPU for `icbot config check`, a few tenths where pandas was loaded. Frozen objects are skipped;
        # the process's memory goes back to the system all the same. Everything that must reach the disk is closed
        # before this point (the journal in open_context, logging at its own exit hook). A command that never
        # reached a first step of work ends the start-up pause here: `main` leaves the collector as it found it
        # (it also runs inside a test process).
        gc.freeze()
        startup.started()


def _main() -> None:
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
            if exc.exit_code == 2 and type(exc).__name__ != "NoArgsIsHelpError":  # a bare `icbot`: the help
                err_console.print(f"icbot: {_usage_line(exc)}", markup=False)
                sys.exit(EXIT_USAGE)
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Exit):
            sys.exit(exc.exit_code)
        err_console.print(f"icbot: unexpected error: {type(exc).__name__}: {exc}", markup=False)
        if "--debug" in sys.argv or os.environ.get("ICBOT_DEBUG"):
            raise
        sys.exit(EXIT_UNEXPECTED)
