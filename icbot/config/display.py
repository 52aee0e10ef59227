"""The configuration as plain data for display and JSON, with secrets masked.

The keys come from the dataclasses (icbot.config.model), like the loader's: a key added there shows up here.
"""

from __future__ import annotations

from dataclasses import is_dataclass
from datetime import time
from pathlib import Path
from typing import Any

from icbot.config.checks import defaults_of
from icbot.config.model import Config


def mask_account(account: str) -> str:
    """All but the last 3 characters hidden: enough to recognise the account, not to use it."""
    if not account:
        return ""
    return "*" * max(len(account) - 3, 0) + account[-3:]


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, time):
        return f"{value:%H:%M}"
    return value


def redacted(config: Config) -> dict[str, Any]:
    """A plain, JSON-ready view of the effective configuration, safe to print or paste.

    The account id is masked; only the apprise config *path* is shown (the URLs in it, and in
    ICBOT_NOTIFY_URLS, carry secrets and are never read here).
    """
    view: dict[str, Any] = {"source": str(config.source) if config.source is not None else None}
    for key, value in defaults_of(config).items():
        view[key] = {k: _plain(v) for k, v in defaults_of(value).items()} if is_dataclass(value) else _plain(value)
    view["gateway"]["account"] = mask_account(config.gateway.account)
    view["storage"]["db_path"] = str(config.db_path)
    return view
