"""The configuration: one YAML file, validated by hand into frozen dataclasses.

Real money depends on these numbers, so nothing is guessed: an unknown key, a wrong type or an out-of-range
value stops the program with ONE line that names the dotted key, shows the value and says what is allowed.
Validation is written out by hand (no pydantic) so every message is ours and every rule has a test.

Where the file comes from (first match wins): the ``path`` argument (``--config``), ``ICBOT_CONFIG``,
``./config.yaml`` if it exists, else the built-in defaults (paper mode). ``ICBOT_DB`` overrides
``storage.db`` so tests and the demo can point a run at a scratch journal. See docs/configuration.md.
"""

from __future__ import annotations

from icbot.config.display import mask_account, redacted
from icbot.config.load import load_config
from icbot.config.model import (
    MAX_CONTRACTS_CEILING,
    MODES,
    SIZE_MODES,
    TRIGGER_METHODS,
    Config,
    EntryConfig,
    ExitsConfig,
    FiltersConfig,
    GatewayConfig,
    NotifyConfig,
    ReportConfig,
    SizeConfig,
    StorageConfig,
    StrategyConfig,
    StrikesConfig,
    WhatifConfig,
    default_db_path,
    is_paper_account,
)

__all__ = [
    "MAX_CONTRACTS_CEILING",
    "MODES",
    "SIZE_MODES",
    "TRIGGER_METHODS",
    "Config",
    "EntryConfig",
    "ExitsConfig",
    "FiltersConfig",
    "GatewayConfig",
    "NotifyConfig",
    "ReportConfig",
    "SizeConfig",
    "StorageConfig",
    "StrategyConfig",
    "StrikesConfig",
    "WhatifConfig",
    "default_db_path",
    "is_paper_account",
    "load_config",
    "mask_account",
    "redacted",
]
