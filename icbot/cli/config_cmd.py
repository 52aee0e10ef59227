"""`icbot config check`: validate the configuration and show what icbot will actually use.

A bad file raises ConfigError; `icbot.cli.app.main` turns it into one line on stderr and exit code 2, so a
launchd log shows exactly which key to fix. The output is redacted (account masked, no notification
URLs) so it can be pasted into an issue or a chat.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from icbot.cli.plain_params import PlainCommand, PlainGroup
from icbot.config import load_config, redacted

config_app = typer.Typer(
    name="config",
    help="Inspect the configuration.",
    no_args_is_help=True,
    add_completion=False,
    cls=PlainGroup,
    rich_markup_mode=None,  # plain help: typer 0.29's rich help shows flags as "<bool>" (see icbot.cli.app)
)

ENV_VARS = ("ICBOT_CONFIG", "ICBOT_DB", "ICBOT_CLOCK", "ICBOT_NOTIFY_URLS")


def environment_view(environ: Mapping[str, str]) -> dict[str, Any]:
    """The icbot environment variables in effect; notification URLs carry secrets, so only "set" is shown."""
    view: dict[str, Any] = {}
    for name in ENV_VARS:
        value = environ.get(name, "").strip()
        if not value:
            view[name] = None
        elif name == "ICBOT_NOTIFY_URLS":
            view[name] = "set (hidden)"
        else:
            view[name] = value
    return view


@config_app.command("check", cls=PlainCommand)
def check(
    config_path: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="config.yaml to check (else $ICBOT_CONFIG, ./config.yaml).", readable=False
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Validate the configuration and print the effective, redacted values (exit 2 with one line if bad).

    The alert settings are loaded exactly as run-today loads them (ICBOT_NOTIFY_URLS and the apprise file,
    its 0600 rule included), so a mistake there shows up now and not at 09:17 on a trading morning.
    """
    config = load_config(config_path)
    view = redacted(config)
    view["environment"] = environment_view(os.environ)
    from icbot.notify import Notifier

    notifier = Notifier.from_settings(config.notify.apprise_config, os.environ)
    services = ", ".join(notifier.services)
    view["notify"]["loaded"] = (
        f"{len(notifier.services)} service(s): {services}" if notifier.services else "none: alerts are only journaled"
    )
    if as_json:
        typer.echo(json.dumps(view, indent=2))
        return
    from icbot.render import config_table

    Console(highlight=False).print(config_table(view))


def register(app: typer.Typer) -> None:
    app.add_typer(config_app)
