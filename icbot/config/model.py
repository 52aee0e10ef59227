"""The configuration's shape: frozen dataclasses with the defaults of docs/strategy.md and docs/configuration.md,
and the fixed limits around them.

Each default is written here and only here: `icbot.config.load` derives the allowed keys and the defaults of every
section from these dataclasses (`dataclasses.fields`), so the file format and the code cannot drift apart. A field
that is not a config key carries ``metadata={"config_key": False}``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Literal

from icbot.core.products import Product, product_for

# The hard ceiling lives with the sizing rule (core must not depend on config); re-exported here.
from icbot.core.sizing import MAX_CONTRACTS_CEILING as MAX_CONTRACTS_CEILING

MODES = ("paper", "live", "experiment")
SIZE_MODES = ("fixed", "net_liquidation_pct", "available_funds_pct")

# IB's Order.triggerMethod codes. The stop's trigger is always sent explicitly, so when it fires never depends on
# IB's per-instrument default (see docs/strategy.md).
TRIGGER_METHODS: dict[str, int] = {
    "default": 0,
    "double_bid_ask": 1,
    "last": 2,
    "double_last": 3,
    "bid_ask": 4,
    "last_or_bid_ask": 7,
    "midpoint": 8,
}

# IB paper-trading account ids start with "DU" (the same rule icbot.broker.accounts applies at connect time).
PAPER_ACCOUNT_PREFIXES = ("DU",)

MARKET_OPEN = time(9, 30)
# Time exits must leave this many minutes before the close; on an early close the exit is clamped to
# close − EXIT_MARGIN_MINUTES (icbot.core.schedule), so the entry window must end before that too.
EXIT_MARGIN_MINUTES = 15
LATEST_TIME_EXIT = time(15, 45)  # 16:00 − 15 min
EARLY_CLOSE_EXIT_MINUTES = 195  # 09:30 + 195 min = 12:45, the clamped exit on a 13:00 early close


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    host: str = "127.0.0.1"
    port: int = 4002
    client_id: int = 31
    account: str = ""


@dataclass(frozen=True, slots=True)
class StrategyConfig:
    """The traded product (SPX/SPXW or XSP/XSP, icbot.core.products) and the combo price increment."""

    symbol: str = "SPX"
    trading_class: str = "SPXW"
    combo_tick: float = 0.05

    @property
    def product(self) -> Product:
        """The product these two keys name; ValueError for a pair the loader would have refused."""
        return product_for(self.symbol, self.trading_class)


@dataclass(frozen=True, slots=True)
class EntryConfig:
    minutes_after_open: int = 2
    deadline_minutes_after_open: int = 3
    reprice_seconds: float = 5.0
    step: float = 0.05
    min_credit: float = 0.0


@dataclass(frozen=True, slots=True)
class StrikesConfig:
    target_delta: float = 15.0
    max_delta: float = 16.9
    min_delta: float = 10.0
    tie_tolerance: float = 0.05
    wing_width: float = 20.0


@dataclass(frozen=True, slots=True)
class SizeConfig:
    mode: Literal["fixed", "net_liquidation_pct", "available_funds_pct"] = "fixed"
    contracts: int = 1
    percent: float = 0.0
    max_contracts: int = 1


@dataclass(frozen=True, slots=True)
class ExitsConfig:
    profit_target_pct: float = 25.0
    stop_multiple: float = 3.0
    stop_trigger: str = "midpoint"
    time_exit: time = time(11, 30)
    # How long run-today stays connected after placing the exits, to catch IB rejecting one after acknowledging
    # it (seen up to ~26 s later) and place it again at once (docs/operations.md, "After the exits are placed").
    confirm_seconds: float = 30.0

    @property
    def trigger_method(self) -> int:
        """The IB Order.triggerMethod code for the stop."""
        return TRIGGER_METHODS[self.stop_trigger]


@dataclass(frozen=True, slots=True)
class FiltersConfig:
    max_vix: float | None = None


@dataclass(frozen=True, slots=True)
class ReportConfig:
    starting_capital: float | None = None  # the CAGR/drawdown base; None: net liquidation journaled at the first trade


@dataclass(frozen=True, slots=True)
class WhatifConfig:
    """What-if replays (docs/whatif.md): whether `check` records the bars they need, the fill slippage per leg,
    and named variants (name → overrides by their config names, validated at load; icbot.core.whatif)."""

    record: bool = True
    slippage: float = 0.10  # per leg: SPXW market exits of legs in the money pay about this beyond the mid
    variants: Mapping[str, Mapping[str, float | str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NotifyConfig:
    apprise_config: Path | None = None
    daily_summary: bool = True  # one alert after the time exit: the day's trade (or why none), P/L, month to date


@dataclass(frozen=True, slots=True)
class StorageConfig:
    db: Path | None = None


@dataclass(frozen=True, slots=True)
class Config:
    mode: Literal["paper", "live", "experiment"] = "paper"
    gateway: GatewayConfig = field(default_factory=GatewayConfig)
    strategy: StrategyConfig = field(default_factory=StrategyConfig)
    entry: EntryConfig = field(default_factory=EntryConfig)
    strikes: StrikesConfig = field(default_factory=StrikesConfig)
    size: SizeConfig = field(default_factory=SizeConfig)
    exits: ExitsConfig = field(default_factory=ExitsConfig)
    filters: FiltersConfig = field(default_factory=FiltersConfig)
    notify: NotifyConfig = field(default_factory=NotifyConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    whatif: WhatifConfig = field(default_factory=WhatifConfig)
    source: Path | None = field(default=None, metadata={"config_key": False})  # the file read, not a key

    @property
    def db_path(self) -> Path:
        """The journal file: storage.db (already overridden by ICBOT_DB at load time) or the platform default."""
        return self.storage.db if self.storage.db is not None else default_db_path()

    @property
    def transmits_orders(self) -> bool:
        """Paper and live send real orders to the gateway; experiment never does."""
        return self.mode != "experiment"


def is_paper_account(account: str) -> bool:
    return account.upper().startswith(PAPER_ACCOUNT_PREFIXES)


def default_db_path(environ: Mapping[str, str] | None = None, platform: str | None = None) -> Path:
    """Where the journal lives by default: a user data dir, never a synced or TCC-protected folder."""
    env = os.environ if environ is None else environ
    plat = sys.platform if platform is None else platform
    if plat == "darwin":
        return Path.home() / "Library" / "Application Support" / "icbot" / "icbot.db"
    xdg = env.get("XDG_DATA_HOME", "").strip()
    base = Path(xdg).expanduser() if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    return base / "icbot" / "icbot.db"
