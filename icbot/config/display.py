"""The configuration as plain data for display and JSON, with secrets masked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from icbot.config.model import Config


def mask_account(account: str) -> str:
    """All but the last 3 characters hidden: enough to recognise the account, not to use it."""
    if not account:
        return ""
    return "*" * max(len(account) - 3, 0) + account[-3:]


def redacted(config: Config) -> dict[str, Any]:
    """A plain, JSON-ready view of the effective configuration, safe to print or paste.

    The account id is masked; only the apprise config *path* is shown (the URLs in it, and in
    ICBOT_NOTIFY_URLS, carry secrets and are never read here).
    """
    g, st, e, sk, sz, x = config.gateway, config.strategy, config.entry, config.strikes, config.size, config.exits
    return {
        "source": str(config.source) if config.source is not None else None,
        "mode": config.mode,
        "gateway": {"host": g.host, "port": g.port, "client_id": g.client_id, "account": mask_account(g.account)},
        "strategy": {"symbol": st.symbol, "trading_class": st.trading_class, "combo_tick": st.combo_tick},
        "entry": {
            "minutes_after_open": e.minutes_after_open,
            "deadline_minutes_after_open": e.deadline_minutes_after_open,
            "reprice_seconds": e.reprice_seconds,
            "step": e.step,
            "min_credit": e.min_credit,
        },
        "strikes": {
            "target_delta": sk.target_delta,
            "max_delta": sk.max_delta,
            "min_delta": sk.min_delta,
            "tie_tolerance": sk.tie_tolerance,
            "wing_width": sk.wing_width,
        },
        "size": {"mode": sz.mode, "contracts": sz.contracts, "percent": sz.percent, "max_contracts": sz.max_contracts},
        "exits": {
            "profit_target_pct": x.profit_target_pct,
            "stop_multiple": x.stop_multiple,
            "stop_trigger": x.stop_trigger,
            "time_exit": f"{x.time_exit:%H:%M}",
        },
        "filters": {"max_vix": config.filters.max_vix},
        "notify": {"apprise_config": _path_or_none(config.notify.apprise_config)},
        "storage": {"db": _path_or_none(config.storage.db), "db_path": str(config.db_path)},
    }


def _path_or_none(path: Path | None) -> str | None:
    return str(path) if path is not None else None
